"""Server-Sent Events: a room's messages, enters, leaves and deletion as they happen, resumable by message id."""

import json
import random
import re
import time

from bottle import request, response

from routes.common import current_user, fail, settings, store, too_many
from routes.inputs import valid_room_id
from store.db import iso, now
from store.errors import RateLimited, RoomGone

RETRY_MS = 3000  # how soon a browser comes back after a stream ends
WAIT_SECONDS = 1.0  # how long a stream waits for events before it checks that its client is still there
PAGE = 500  # messages per database read while replaying or filling a gap
RESERVED_THREADS = 64  # waitress threads never given to streams, so ordinary requests stay quick
CHECK_EVERY = 4  # heartbeats between a stream's own look at the room in the database
SLOT_GRACE_SECONDS = 30  # a stream's slot outlives its longest life by this much
RESUME_ID = re.compile(r"[0-9]{1,16}")


def frame(event: str, data: dict, event_id: int | None = None) -> str:
    """One SSE event; JSON never contains a raw newline, so one data line is enough."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


class Position:
    """How far a stream has sent a room's conversation: each message goes out once, in id order."""

    def __init__(self, messages, roomid: str, sent: int):
        self._messages = messages
        self._roomid = roomid
        self.sent = sent

    def through(self, high: int):
        """Frames of the stored messages after the last one sent, up to `high`, in bounded pages."""
        while self.sent < high:
            top = min(high, self.sent + PAGE)
            page = self._messages.between(self._roomid, self.sent + 1, top)
            self.sent = top
            if page:
                yield "".join(frame("message", m, m["id"]) for m in page)

    def live(self, message: dict):
        """Frames for a message from the bus: those before it that never came first (from the database), none twice."""
        if message["id"] > self.sent:
            yield from self.through(message["id"] - 1)
            self.sent = message["id"]
            yield frame("message", message, message["id"])


def resume_point() -> int | None:
    """The id the client has seen: `Last-Event-ID`, else `?after=`; None for neither; 400 when malformed."""
    raw = request.headers.get("Last-Event-ID")
    if raw is None:
        raw = request.query.get("after")
    if raw is None:
        return None
    if not RESUME_ID.fullmatch(raw.strip()):
        fail(400, "Last-Event-ID and after must be a non-negative integer")
    return int(raw)


def stream_events(roomid):
    """GET /v1/events/<roomid>: the room's event stream for a member, resumable; 400, 401, 403, 429, 503."""
    user = current_user()
    if not valid_room_id(roomid):
        fail(400, "no such room")
    after = resume_point()
    try:
        if store().messages.last_id_for(user, roomid) is None:
            fail(403, "you are not a member of this room")
    except RoomGone:
        fail(400, "no such room")
    gone = request.environ.get("waitress.client_disconnected", lambda: False)
    # bottle runs the generator to its first item within this request: its refusals are still answers.
    return event_stream(store(), settings(), user, roomid, after, gone)


def event_stream(store, settings, user: str, roomid: str, after: int | None, gone):
    if store.fanout.count() >= settings.web_threads - RESERVED_THREADS:
        fail(503, "this server holds all the streams it can; retry", {"Retry-After": str(RETRY_MS // 1000)})
    try:
        slot = store.streams.open(user, settings.streams_per_user, settings.stream_max_seconds + SLOT_GRACE_SECONDS)
    except RateLimited as limited:
        too_many(limited.retry_after, "too many open streams")
    # Listen before reading the last id: a message committed after that read is then on its way to us.
    listener = store.fanout.listen(roomid)
    try:
        try:
            last = store.messages.last_id_for(user, roomid)
        except RoomGone:
            fail(400, "no such room")
        if last is None:  # left between the check and now
            fail(403, "you are not a member of this room")
        position = Position(store.messages, roomid, last if after is None else min(after, last))
        response.content_type = "text/event-stream"
        response.set_header("Cache-Control", "no-cache")
        response.set_header("X-Accel-Buffering", "no")
        # The id line makes even a quiet stream's reconnect carry Last-Event-ID, so nothing falls between.
        yield f"retry: {RETRY_MS}\nid: {position.sent}\n\n"
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
                    newest = store.messages.last_id_for(user, roomid)
                except RoomGone:
                    yield frame("deleted", {"roomid": roomid, "t": iso(now())})
                    return
                if newest is None:
                    return  # the user left
                yield from position.through(newest)
            for event, data in events:
                if event == "message":
                    yield from position.live(data)
                    continue
                yield frame(event, data)
                if event == "deleted" or (event == "leave" and data["u"] == user):
                    return
            if time.monotonic() >= beat_at:
                beat_at = time.monotonic() + settings.heartbeat_seconds
                yield ": ping\n\n"
    finally:
        listener.close()
        store.streams.close(user, slot)


def register(app) -> None:
    app.get("/v1/events/<roomid>", callback=stream_events)
