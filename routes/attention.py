"""Attention: read markers and the user's mentions across rooms."""

import re
from datetime import UTC, datetime

from bottle import request

from routes.common import current_user, fail, read_fields, store
from routes.inputs import ID_MAX, bounded_int, valid_room_id
from store.errors import NotMember, RoomGone
from store.messages import public_message

CURSOR = re.compile(r"([0-9]{1,13})\.([A-Za-z0-9_-]{1,64})\.([0-9]{1,10})")  # ms, room, id
MENTIONS_MAX = 100


def mark_read(roomid):
    """POST /v1/rooms/<roomid>/read {id}: 200 {read} (markers only move forward); 400, 401, 403, 404."""
    user = current_user()
    if not valid_room_id(roomid):
        fail(404, "no such room")
    message_id = read_fields().get("id")
    if isinstance(message_id, str) and re.fullmatch(r"[0-9]{1,10}", message_id):  # a form's field
        message_id = int(message_id)
    if not isinstance(message_id, int) or isinstance(message_id, bool) or not 0 <= message_id <= ID_MAX:
        fail(400, f"id must be a message id (a whole number from 0 to {ID_MAX})")
    try:
        read = store().attention.mark(user, roomid, message_id)
        # The user's other pages hear the new counts on their streams.
        for room in store().rooms.joined(user, roomid):
            store().feed.tell(user, "read", {k: room[k] for k in ("roomid", "read", "unread", "mentions")})
        return {"read": read}
    except RoomGone:
        fail(404, "no such room")
    except NotMember:
        fail(403, "you are not a member of this room")


def cursor_of(doc_time: datetime, roomid: str, message_id: int) -> str:
    return f"{int(doc_time.timestamp() * 1000)}.{roomid}.{message_id}"


def parse_cursor(text: str | None):
    if text is None:
        return None
    match = CURSOR.fullmatch(text)
    if not match:
        fail(400, "before must be the next value of an earlier page")
    t = datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)
    return t, match.group(2), int(match.group(3))


def list_mentions():
    """GET /v1/mentions?before=&limit=: 200 {mentions: [{roomid, message}], next}, newest first; 400, 401."""
    user = current_user()
    try:
        limit = bounded_int("limit", 20, 1, MENTIONS_MAX)
    except ValueError:
        fail(400, f"limit must be a whole number from 1 to {MENTIONS_MAX}")
    before = parse_cursor(request.query.get("before"))
    rooms = store().rooms.ids_of(user)
    found, last = store().attention.mentions(user, rooms, limit, before)
    return {
        "mentions": [{"roomid": doc["room"], "message": public_message(doc)} for doc in found],
        "next": cursor_of(*last) if last else None,
    }


def register(app) -> None:
    app.post("/v1/rooms/<roomid>/read", callback=mark_read)
    app.get("/v1/mentions", callback=list_mentions)
