"""Routes for logs (see its issue)."""


def register(app) -> None:
    """Register the logs routes."""
