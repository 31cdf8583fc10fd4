"""Routes for rooms (see its issue)."""


def register(app) -> None:
    """Register the rooms routes."""
