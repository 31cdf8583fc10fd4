"""Domain errors the store raises; routes translate them into answers."""


class StoreError(Exception):
    """Base of the store's domain errors."""


class NotFound(StoreError):
    """The thing named does not exist."""


class Conflict(StoreError):
    """The thing exists already."""


class Forbidden(StoreError):
    """The user may not do this."""


class RoomGone(NotFound):
    """The room does not exist (or no longer exists)."""


class NotMember(Forbidden):
    """The user is not a member of the room."""


class RateLimited(StoreError):
    """Too many attempts; retry after `retry_after` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class NoMessage(NotFound):
    """The room has no message with that id."""


class MessageDeleted(Conflict):
    """The message was deleted: it can no longer be edited or reacted to."""


class TooManyReactions(Conflict):
    """The message carries the most distinct reactions it may."""


class BadReply(StoreError):
    """A reply names a message that is not in the room."""
