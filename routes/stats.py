"""Routes for stats (see its issue)."""


def register(app) -> None:
    """Register the stats routes."""
