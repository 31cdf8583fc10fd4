"""Server-Sent Events: a room's timeline as it happens, resumable from any event id it sent."""

import json
import random
import time

from bottle import request, response

from routes.common import current_user, fail, settings, store, too_many
from routes.inputs import valid_room_id
from store.db import iso, now
from store.errors import RateLimited, RoomGone
from store.timeline import Event, parse_token, token_for

RETRY_MS = 3000  # how soon a browser comes back after a stream ends
WAIT_SECONDS = 1.0  # how long a stream waits for events before it checks that its client is still there
PAGE = 500  # positions per database read while replaying or filling a gap
RESERVED_THREADS = 64  # waitress threads never given to streams, so ordinary requests stay quick
CHECK_EVERY = 4  # heartbeats between a stream's own look at the room in the database
SLOT_GRACE_SECONDS = 30  # a stream's slot outlives its longest life by this much


def frame(event: str, data: dict, event_id: str | None = None) -> str:
    """One SSE event; JSON never contains a raw newline, so one data line is enough."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


class Position:
    """How far a stream has sent a room's timeline: each event goes out once, in position order."""

    def __init__(self, timeline, roomid: str, sent: int):
        self._timeline = timeline
        self._roomid = roomid
        self.sent = sent

    def through(self, high: int):
        """Frames of the stored events after the last one sent, up to `high`, in bounded pages."""
        while self.sent < high:
            top = min(high, self.sent + PAGE)
            page = self._timeline.between(self._roomid, self.sent + 1, top)
            self.sent = top
            if page:
                yield "".join(frame(e.kind, e.data, e.token) for e in page)

    def live(self, event: Event):
        """Frames for an event from the bus: those before it that never came (from the database), none twice.

        An event without a position (typing, the room's deletion) is never stored: it goes out as it comes."""
        if event.position is None:
            yield frame(event.kind, event.data)
        elif event.position > self.sent:
            yield from self.through(event.position - 1)
            self.sent = event.position
            yield frame(event.kind, event.data, event.token)


def resume_point() -> tuple[int, int | None] | None:
    """The point the client has seen: `Last-Event-ID`, else `?after=`; None for neither; 400 when malformed."""
    raw = request.headers.get("Last-Event-ID")
    if raw is None:
        raw = request.query.get("after")
    if raw is None:
        return None
    point = parse_token(raw)
    if point is None:
        fail(400, "Last-Event-ID and after must be an event id: a message id, or <message id>.<position>")
    return point


def stream_events(roomid):
    """GET /v1/events/<roomid>: the room's event stream for a member, resumable; 400, 401, 403, 429, 503."""
    user = current_user()
    if not valid_room_id(roomid):
        fail(400, "no such room")
    after = resume_point()
    try:
        if store().rooms.position_for(user, roomid) is None:
            fail(403, "you are not a member of this room")
    except RoomGone:
        fail(400, "no such room")
    gone = request.environ.get("waitress.client_disconnected", lambda: False)
    # bottle runs the generator to its first item within this request: its refusals are still answers.
    return event_stream(store(), settings(), user, roomid, after, gone)


def ends_stream(event: Event, user: str) -> bool:
    """The room is gone, or the user is out of it."""
    return event.kind == "deleted" or (event.kind in ("leave", "removed") and event.data.get("u") == user)


def event_stream(store, settings, user: str, roomid: str, after, gone):
    if store.fanout.count() >= settings.web_threads - RESERVED_THREADS:
        fail(503, "this server holds all the streams it can; retry", {"Retry-After": str(RETRY_MS // 1000)})
    try:
        slot = store.streams.open(user, settings.streams_per_user, settings.stream_max_seconds + SLOT_GRACE_SECONDS)
    except RateLimited as limited:
        too_many(limited.retry_after, "too many open streams")
    # Listen before reading the newest position: an event committed after that read is then on its way to us.
    listener = store.fanout.listen(roomid)
    store.presence.opened(user)
    try:
        try:
            newest = store.rooms.position_for(user, roomid)
        except RoomGone:
            fail(400, "no such room")
        if newest is None:  # left between the check and now
            fail(403, "you are not a member of this room")
        seq, last = newest
        start = last if after is None else store.timeline.position_of(roomid, after, last)
        position = Position(store.timeline, roomid, start)
        response.content_type = "text/event-stream"
        response.set_header("Cache-Control", "no-cache")
        response.set_header("X-Accel-Buffering", "no")
        # The id line makes even a quiet stream's reconnect carry Last-Event-ID, so nothing falls between.
        yield f"retry: {RETRY_MS}\nid: {start_token(after, start, seq, last)}\n\n"
        yield from position.through(last)
        started = time.monotonic()
        beat_at = started + settings.heartbeat_seconds
        check_every = settings.heartbeat_seconds * CHECK_EVERY
        check_at = started + check_every * random.uniform(0.5, 1.0)  # streams opened together check apart
        while time.monotonic() - started < settings.stream_max_seconds and not gone():
            missed, events = listener.wait(WAIT_SECONDS)
            if missed or time.monotonic() >= check_at:
                # After a lost subscription, and now and then in case a publish failed: read where the room stands.
                check_at = time.monotonic() + check_every
                try:
                    newest = store.rooms.position_for(user, roomid)
                except RoomGone:
                    if not store.rooms.exists(roomid):  # else a private room the user is no longer in
                        yield frame("deleted", {"roomid": roomid, "t": iso(now())})
                    return
                if newest is None:
                    return  # the user left or was removed
                yield from position.through(newest[1])
            for event in events:
                yield from position.live(event)
                if ends_stream(event, user):
                    return
            if time.monotonic() >= beat_at:
                beat_at = time.monotonic() + settings.heartbeat_seconds
                yield ": ping\n\n"
    finally:
        listener.close()
        store.presence.closed(user)
        store.streams.close(user, slot)


def start_token(after, start: int, seq: int, last: int) -> str:
    """The id a stream starts with: the client's own point when it lies inside the timeline, else the end."""
    if after is None or start == last:
        return token_for(seq, last)
    message_id, position = after
    return str(message_id) if position is None else token_for(message_id, position)


def register(app) -> None:
    app.get("/v1/events/<roomid>", callback=stream_events)
