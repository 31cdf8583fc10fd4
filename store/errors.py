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
