"""Routes for images (see its issue)."""


def register(app) -> None:
    """Register the images routes."""
