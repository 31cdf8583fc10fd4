"""GET /v1/stats: the counts from the aggregated snapshot and one bounded page of the activity log."""

from datetime import timedelta

from routes.common import celery, current_user, fail, settings, store
from routes.inputs import ID_MAX, bounded_int
from store.activity import public_entry
from store.db import now
from store.stats import public_counts
from tasks.stats import BEAT_SECONDS

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
DEADLINE_SECONDS = 1.5  # the whole route's database time; past it, the error page rather than a hung request


def page_parameter(name: str, default: int | None, most: int) -> int | None:
    try:
        return bounded_int(name, default, 1, most)
    except ValueError:
        fail(400, f"{name} must be a whole number from 1 to {most}")


def show_stats():
    # Past the deadline pymongo raises, and the error page (routes/pages.py) answers 500.
    """GET /v1/stats: 200 the counts snapshot and a page of the activity log this user may see; 400, 401."""
    with store().deadline(DEADLINE_SECONDS):
        user = current_user()
        limit = page_parameter("limit", DEFAULT_LIMIT, MAX_LIMIT)
        before = page_parameter("before", None, ID_MAX)
        snapshot = store().stats.snapshot()
        reader = None if user in settings().admin_users else user
        entries, next_before = store().stats.page(reader, limit, before)
    if snapshot is None or now() - snapshot["updated"] > timedelta(seconds=2 * BEAT_SECONDS):
        celery().nudge_stats()  # nothing computed yet, or no beat running: ask for a run
    return {**public_counts(snapshot), "logs": [public_entry(entry) for entry in entries], "next": next_before}


def register(app) -> None:
    """Register the stats routes."""
    app.get("/v1/stats", callback=show_stats)
