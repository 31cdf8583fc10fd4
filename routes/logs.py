"""Conversations: read a page of a room's messages, post a message."""

from bottle import response

from routes.common import current_user, fail, json_answer, read_fields, settings, store, too_many
from routes.inputs import CID_MAX, ID_MAX, bounded_int, message_text, valid_room_id
from store.errors import NotMember, RateLimited, RoomGone


def read_logs(roomid):
    """GET /v1/logs/<roomid>: 200 {logs} oldest first by before/after/around/limit; 400 {logs: []}, 403 {logs: []}."""
    user = current_user()
    try:
        limit = bounded_int("limit", 100, 1, 1000)
        before = bounded_int("before", None, 1, ID_MAX)
        after = bounded_int("after", None, 0, ID_MAX)
        around = bounded_int("around", None, 1, ID_MAX)
    except ValueError:
        return json_answer(400, {"logs": []})
    if around is not None and (before is not None or after is not None):
        return json_answer(400, {"logs": []})
    if not valid_room_id(roomid):
        return json_answer(400, {"logs": []})
    try:
        return {"logs": store().messages.page(user, roomid, limit=limit, before=before, after=after, around=around)}
    except RoomGone:
        return json_answer(400, {"logs": []})
    except NotMember:
        return json_answer(403, {"logs": []})


def post_message(roomid):
    """POST /v1/logs/<roomid>: 201 the new message (200 the first one for a known cid); 400, 403, 429."""
    user = current_user()
    if not valid_room_id(roomid):
        fail(400, "no such room")
    fields = read_fields()
    text, cid = message_text(fields.get("m")), fields.get("cid")
    if not (cid is None or (isinstance(cid, str) and 1 <= len(cid) <= CID_MAX)):
        fail(400, f"cid must be a string of 1 to {CID_MAX} characters")
    try:
        message, new = store().messages.post(user, roomid, text, cid, rate=settings().message_rate)
    except RoomGone:
        fail(400, "no such room")
    except NotMember:
        fail(403, "you are not a member of this room")
    except RateLimited as limited:
        too_many(limited.retry_after, "too many messages")
    response.status = 201 if new else 200
    return message


def register(app) -> None:
    app.get("/v1/logs/<roomid>", callback=read_logs)
    app.post("/v1/logs/<roomid>", callback=post_message)
