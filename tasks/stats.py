"""Stats aggregation tasks (see the stats issue)."""


def register(app) -> None:
    """Register the stats tasks on a Celery app."""
