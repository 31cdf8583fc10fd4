"""Image storage tasks (see the images issue)."""


def register(app) -> None:
    """Register the image tasks on a Celery app."""
