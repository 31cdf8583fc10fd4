"""Stats aggregation: the task, its beat schedule, and the debounced nudge that follows changes."""

import logging
import threading

from kombu.exceptions import OperationalError
from pymongo.errors import InvalidOperation
from redis.exceptions import RedisError

from store.db import now

log = logging.getLogger(__name__)

TASK = "chat.aggregate_stats"
BEAT_SECONDS = 60
DEBOUNCE_SECONDS = 2  # changes within this long of a nudge share one run
PENDING_KEY = "chat:stats:pending"
PENDING_SECONDS = 30  # only if the queued run is lost: a run clears the key when it starts


def aggregate_stats(task) -> None:
    """Fold new activity into the stats snapshot; safe to run twice at once."""
    store = task.app.chat_store
    if store.redis is not None:
        store.redis.delete(PENDING_KEY)  # changes from now on need another run
    started = now()
    snapshot = store.stats.aggregate()
    if snapshot and any(seen >= started for _, seen in snapshot["missing"]):
        task.app.nudge_stats()  # ids still committing: look once more when they have


class RedisNudge:
    """Enqueue one run DEBOUNCE_SECONDS after the first change; every process shares the pending flag in Redis."""

    def __init__(self, app):
        self._app = app

    def __call__(self) -> None:
        try:
            if self._app.chat_store.redis.set(PENDING_KEY, 1, nx=True, ex=PENDING_SECONDS):
                self._app.tasks[TASK].apply_async(countdown=DEBOUNCE_SECONDS, expires=BEAT_SECONDS)
        except (RedisError, OperationalError) as exc:  # the user's action must not fail for this: beat catches up
            log.warning("stats nudge failed: %s", exc)


class TimerNudge:
    """The embedded default (no worker, no beat): one in-process timer at a time runs the task."""

    def __init__(self, app):
        self._app = app
        self._lock = threading.Lock()
        self._timer = None

    def __call__(self) -> None:
        with self._lock:
            if self._timer is None:
                self._timer = threading.Timer(DEBOUNCE_SECONDS, self._run)
                self._timer.daemon = True
                self._timer.start()

    def _run(self) -> None:
        with self._lock:
            self._timer = None
        try:
            self._app.tasks[TASK].apply()
        except InvalidOperation:
            pass  # the store was closed: the app is shutting down, and the next start catches up
        except Exception as exc:  # noqa: BLE001 - a background thread has nobody else to tell
            log.warning("stats aggregation failed: %s", exc)


def register(app) -> None:
    """Register the stats task, its beat schedule, and the nudge that the store calls after activity."""
    app.task(name=TASK, bind=True, ignore_result=True)(aggregate_stats)
    app.conf.beat_schedule = {
        **app.conf.beat_schedule,
        "aggregate-stats": {"task": TASK, "schedule": BEAT_SECONDS, "options": {"expires": BEAT_SECONDS}},
    }
    app.nudge_stats = TimerNudge(app) if app.conf.task_always_eager else RedisNudge(app)
