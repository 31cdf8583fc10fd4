"""Server-Sent Events: a room's timeline as it happens, resumable from any event id it sent."""

from bottle import request

from routes.common import current_user, fail, settings, store
from routes.inputs import valid_room_id
from routes.sse import Clock, Position, frame, frames, resume_id, start_sse, stream_slot, wait_seconds
from store.db import iso, now
from store.errors import RoomGone
from store.timeline import Event, parse_token, token_for


def resume_point() -> tuple[int, int | None] | None:
    """The point the client has seen: `Last-Event-ID`, else `?after=`; None for neither; 400 when malformed."""
    raw = resume_id()
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
    # Listen before reading the newest position: an event committed after that read is then on its way to us.
    with stream_slot(store, settings, user, roomid) as listener:
        try:
            newest = store.rooms.position_for(user, roomid)
        except RoomGone:
            fail(400, "no such room")
        if newest is None:  # left between the check and now
            fail(403, "you are not a member of this room")
        seq, last = newest
        listener.stands(roomid, last)
        start = last if after is None else store.timeline.position_of(roomid, after, last)
        position = Position(store.timeline, roomid, start)
        yield start_sse(start_token(after, start, seq, last))
        yield from frames(position.pages(last))
        clock = Clock(settings, gone)
        while clock.running():
            missed, events = listener.wait(wait_seconds(store.fanout.count()))
            if clock.check_due() or missed:
                # After a lost subscription, and now and then in case a publish failed: read where the room stands.
                try:
                    newest = store.rooms.position_for(user, roomid)
                except RoomGone:
                    if not store.rooms.exists(roomid):  # else a private room the user is no longer in
                        yield frame("deleted", {"roomid": roomid, "t": iso(now())})
                    return
                if newest is None:
                    return  # the user left or was removed
                yield from frames(position.pages(newest[1]))
            for _, event in events:
                yield from frames(position.live(event))
                if ends_stream(event, user):
                    return
            yield clock.beat()


def start_token(after, start: int, seq: int, last: int) -> str:
    """The id a stream starts with: the client's own point when it lies inside the timeline, else the end."""
    if after is None or start == last:
        return token_for(seq, last)
    message_id, position = after
    return str(message_id) if position is None else token_for(message_id, position)


def register(app) -> None:
    app.get("/v1/events/<roomid>", callback=stream_events)
