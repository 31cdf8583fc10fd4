"""Conversations: read a page of a room's messages, post a message; edit, delete and react to one."""

from bottle import response

from routes.common import current_user, fail, json_answer, read_fields, settings, store, too_many
from routes.inputs import (
    CID_MAX,
    ID_MAX,
    bounded_int,
    message_id,
    message_text,
    one_emoji,
    reply_id,
    valid_room_id,
)
from store.errors import (
    BadReply,
    Forbidden,
    MessageDeleted,
    NoMessage,
    NotMember,
    RateLimited,
    RoomGone,
    TooManyReactions,
)


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
    text, cid, reply_to = message_text(fields.get("m")), fields.get("cid"), reply_id(fields.get("reply_to"))
    if not (cid is None or (isinstance(cid, str) and 1 <= len(cid) <= CID_MAX)):
        fail(400, f"cid must be a string of 1 to {CID_MAX} characters")
    try:
        message, new = store().messages.post(user, roomid, text, cid, rate=settings().message_rate, reply_to=reply_to)
    except RoomGone:
        fail(400, "no such room")
    except BadReply:
        fail(400, "reply_to must name a message of this room")
    except NotMember:
        fail(403, "you are not a member of this room")
    except RateLimited as limited:
        too_many(limited.retry_after, "too many messages")
    response.status = 201 if new else 200
    return message


def message_change(roomid, id, change):
    """Check the room and message id, run change(store, user, message id); translate the store's refusals."""
    user = current_user()
    if not valid_room_id(roomid):
        fail(400, "no such room")
    number = message_id(id)
    try:
        return change(store(), user, number)
    except RoomGone:
        fail(400, "no such room")
    except NotMember:
        fail(403, "you are not a member of this room")
    except Forbidden as refused:
        fail(403, str(refused))
    except NoMessage:
        fail(404, "no such message")
    except MessageDeleted:
        fail(409, "the message was deleted")
    except TooManyReactions:
        fail(409, "the message has the most distinct reactions it may have")


def edit_message(roomid, id):
    """PATCH /v1/logs/<roomid>/<id> {m}: 200 the message, edited (its author only); 400, 403, 404, 409 deleted."""
    current_user()
    text = message_text(read_fields().get("m"))
    return message_change(roomid, id, lambda s, user, number: s.messages.edit(user, roomid, number, text))


def delete_message(roomid, id):
    """DELETE /v1/logs/<roomid>/<id>: 200 the tombstone, also again (author, room owner, admin); 400, 403, 404."""
    admin = current_user() in settings().admin_users
    return message_change(roomid, id, lambda s, user, number: s.messages.delete(user, roomid, number, admin))


def add_reaction(roomid, id, emoji):
    """PUT /v1/logs/<roomid>/<id>/reactions/<emoji>: 200 {id, reactions}, idempotent; 400, 403, 404, 409."""
    emoji = one_emoji(emoji)
    return message_change(roomid, id, lambda s, user, number: s.messages.react(user, roomid, number, emoji, True))


def remove_reaction(roomid, id, emoji):
    """DELETE /v1/logs/<roomid>/<id>/reactions/<emoji>: 200 {id, reactions}, idempotent; 400, 403, 404, 409."""
    emoji = one_emoji(emoji)
    return message_change(roomid, id, lambda s, user, number: s.messages.react(user, roomid, number, emoji, False))


def register(app) -> None:
    app.get("/v1/logs/<roomid>", callback=read_logs)
    app.post("/v1/logs/<roomid>", callback=post_message)
    app.patch("/v1/logs/<roomid>/<id>", callback=edit_message)
    app.delete("/v1/logs/<roomid>/<id>", callback=delete_message)
    app.put("/v1/logs/<roomid>/<id>/reactions/<emoji>", callback=add_reaction)
    app.delete("/v1/logs/<roomid>/<id>/reactions/<emoji>", callback=remove_reaction)
