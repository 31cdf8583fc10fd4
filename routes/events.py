"""Routes for events (see its issue)."""


def register(app) -> None:
    """Register the events routes."""
