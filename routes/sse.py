"""What every event stream shares: SSE frames, positions in a timeline, a stream's slot and clock."""

import json
import random
import time
from contextlib import contextmanager

from bottle import request, response

from routes.common import fail, too_many
from store.errors import RateLimited
from store.timeline import Event

RETRY_MS = 3000  # how soon a browser comes back after a stream ends
PAGE = 500  # positions per database read while replaying or filling a gap
RESERVED_THREADS = 64  # waitress threads never given to streams, so ordinary requests stay quick
OWN_CHECK_EVERY = 20  # heartbeats between a stream's own full look (its rooms; a stream lasting over 5 minutes)
LIFE_FROM = 0.8  # a stream's life: this much of STREAM_MAX_SECONDS at least, all of it at most
SLOT_GRACE_SECONDS = 30  # a stream's slot outlives its longest life by this much


def wait_seconds(streams: int) -> float:
    """How long a stream waits on its queue before it checks that its client is still there: 1 s, and past
    1,000 streams in the process one second per thousand, up to 5 s. Each idle wake-up takes the GIL: 2,500
    streams waking every second were a third of a process's GIL time, slowing every request beside them."""
    return min(5.0, max(1.0, streams / 1000))


def resume_id() -> str | None:
    """The id the client resumes after: `Last-Event-ID` (what a browser sends), else `?after=`; None for neither."""
    raw = request.headers.get("Last-Event-ID")
    return request.query.get("after") if raw is None else raw


def frame(event: str, data: dict, event_id: str | None = None) -> str:
    """One SSE event; JSON never contains a raw newline, so one data line is enough."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


class Position:
    """How far a stream has sent a timeline (a room's, or the feed's): each event once, in position order."""

    def __init__(self, timeline, key: str, sent: int):
        self._timeline = timeline
        self._key = key
        self.sent = sent

    def pages(self, high: int):
        """The stored events after the last one sent, up to `high`, in bounded pages."""
        while self.sent < high:
            top = min(high, self.sent + PAGE)
            page = self._timeline.between(self._key, self.sent + 1, top)
            self.sent = top
            if page:
                yield page

    def live(self, event: Event):
        """Pages for an event from the bus: those before it that never came (from the database), none twice.

        An event without a position (typing, the room's deletion) is never stored: it goes out as it comes."""
        if event.position is None:
            yield [event]
        elif event.position > self.sent:
            yield from self.pages(event.position - 1)
            self.sent = event.position
            yield [event]


def frames(pages) -> str:
    """A room stream's frames for pages of its events, each with its own resume point."""
    for page in pages:
        yield "".join(frame(e.kind, e.data, e.token if e.position is not None else None) for e in page)


@contextmanager
def stream_slot(store, settings, user: str, *keys: str):
    """A listener for the keys while a stream lasts, within this process's and the user's limits: 503, 429."""
    if store.fanout.count() >= settings.web_threads - RESERVED_THREADS:
        fail(503, "this server holds all the streams it can; retry", {"Retry-After": str(RETRY_MS // 1000)})
    try:
        slot = store.streams.open(user, settings.streams_per_user, settings.stream_max_seconds + SLOT_GRACE_SECONDS)
    except RateLimited as limited:
        too_many(limited.retry_after, "too many open streams")
    listener = store.fanout.listen(*keys)
    store.presence.opened(user)
    try:
        yield listener
    finally:
        listener.close()
        store.presence.closed(user)
        store.streams.close(user, slot)


def start_sse(first_id: str) -> str:
    """The stream's headers, and its first lines: the retry delay and an id, so that even a quiet stream's
    reconnect carries Last-Event-ID and nothing falls between."""
    response.content_type = "text/event-stream"
    response.set_header("Cache-Control", "no-cache")
    response.set_header("X-Accel-Buffering", "no")
    return f"retry: {RETRY_MS}\nid: {first_id}\n\n"


class Clock:
    """When a stream sends its next heartbeat and looks at the database itself, and when it ends."""

    def __init__(self, settings, gone):
        self._settings = settings
        self._gone = gone
        self.started = time.monotonic()
        # Each stream lives 80-100% of the longest life, at random: pages that came back together (after a
        # deploy, a network blip) would otherwise come back together again every time, a resume wave each.
        self._life = settings.stream_max_seconds * random.uniform(LIFE_FROM, 1.0)
        self._beat_at = self.started + settings.heartbeat_seconds
        # Rarely: the process's check finds lost publishes in every timeline; this one is for what has no
        # timeline (a lost notice of a room joined), which a stream's every start reconciles too, so with the
        # default life of 5 minutes a stream never needs it. Streams opened together check apart.
        self._check_every = settings.heartbeat_seconds * OWN_CHECK_EVERY
        self._check_at = self.started + self._check_every * random.uniform(1.0, 1.5)

    def running(self) -> bool:
        return time.monotonic() - self.started < self._life and not self._gone()

    def check_due(self) -> bool:
        """Time for the stream's own look (then the next one is scheduled)."""
        if time.monotonic() < self._check_at:
            return False
        self._check_at = time.monotonic() + self._check_every
        return True

    def beat(self) -> str:
        """A heartbeat comment when one is due, else nothing."""
        if time.monotonic() < self._beat_at:
            return ""
        self._beat_at = time.monotonic() + self._settings.heartbeat_seconds
        return ": ping\n\n"
