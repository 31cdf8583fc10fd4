"""GET /v1/stats: the counts from the aggregated snapshot and one bounded page of the activity log."""
from datetime import timedelta

import bottle
from bottle import request

from routes.common import celery, current_user, fail, settings, store
from store.activity import public_entry
from store.db import now
from store.errors import Unavailable
from store.stats import public_counts
from tasks.stats import BEAT_SECONDS

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
DEADLINE_SECONDS = 1.5  # the whole route's database time; past it, the error page rather than a hung request


def whole_number(name: str, default: int | None, most: int) -> int | None:
    """A query parameter that must be a whole number from 1 to `most`; 400 otherwise."""
    values = request.query.getall(name)
    if not values:
        return default
    value = values[0]
    if len(values) > 1 or not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= most:
        fail(400, f"{name} must be a whole number from 1 to {most}")
    return int(value)


def show_stats():
    try:
        with store().deadline(DEADLINE_SECONDS):
            user = current_user()
            limit = whole_number("limit", DEFAULT_LIMIT, MAX_LIMIT)
            before = whole_number("before", None, 2 ** 53)
            snapshot = store().stats.snapshot()
            reader = None if user in settings().admin_users else user
            entries, next_before = store().stats.page(reader, limit, before)
    except Unavailable:
        bottle.abort(500, "the database did not answer")
    if snapshot is None or now() - snapshot["updated"] > timedelta(seconds=2 * BEAT_SECONDS):
        celery().nudge_stats()  # nothing computed yet, or no beat running: ask for a run
    return {**public_counts(snapshot), "logs": [public_entry(entry) for entry in entries], "next": next_before}


def register(app) -> None:
    """Register the stats routes."""
    app.get("/v1/stats", callback=show_stats)
