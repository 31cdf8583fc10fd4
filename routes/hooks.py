"""Room webhooks: members make secret URLs through which other programs post into the room as a bot."""

import re

from bottle import HTTPResponse, response

from routes.common import current_user, fail, is_admin, json_answer, read_fields, settings, store, too_many
from routes.inputs import CID_MAX, NAME_MAX, display_text, message_text, valid_room_id
from store.errors import Forbidden, NotFound, NotMember, RateLimited, RoomGone

HOOK_TOKEN = re.compile(r"[A-Za-z0-9_-]{40,64}")
HOOK_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


def _room(roomid: str) -> str:
    if not valid_room_id(roomid):
        fail(404, "no such room")
    return roomid


def _refusals(work):
    try:
        return work()
    except RoomGone:
        fail(404, "no such room")
    except NotMember:
        fail(403, "you are not a member of this room")
    except NotFound:
        fail(404, "no such webhook")
    except Forbidden as refused:
        fail(403, str(refused))


def create_hook(roomid):
    """POST /v1/rooms/<roomid>/hooks {name}: 201 {id, name, by, created, url}; 400, 403, 404."""
    user = current_user()
    _room(roomid)
    name = display_text(read_fields().get("name"), "name", NAME_MAX)
    hook = _refusals(lambda: store().hooks.create(user, roomid, name))
    response.status = 201
    token = hook.pop("token")
    return {**hook, "url": f"{settings().base_url()}/v1/hooks/{token}"}


def list_hooks(roomid):
    """GET /v1/rooms/<roomid>/hooks: 200 [{id, name, by, created}] (never a token); 403, 404."""
    user = current_user()
    _room(roomid)
    return json_answer(200, _refusals(lambda: store().hooks.of_room(user, roomid)))


def revoke_hook(roomid, id):
    """DELETE /v1/rooms/<roomid>/hooks/<id>: 204 (its creator, the room's owner, an admin); 403, 404."""
    user = current_user()
    _room(roomid)
    if not HOOK_ID.fullmatch(id):
        fail(404, "no such webhook")
    _refusals(lambda: store().hooks.revoke(user, roomid, id, admin=is_admin(user)))
    return HTTPResponse(status=204)


def post_by_hook(token):
    """POST /v1/hooks/<token> {m, cid?}: 201 the message (200 again for a known cid); 400, 404, 429."""
    hook = store().hooks.by_token(token) if HOOK_TOKEN.fullmatch(token) else None
    if hook is None:
        fail(404, "no such webhook")
    fields = read_fields()
    text, cid = message_text(fields.get("m")), fields.get("cid")
    if not (cid is None or (isinstance(cid, str) and 1 <= len(cid) <= CID_MAX)):
        fail(400, f"cid must be a string of 1 to {CID_MAX} characters")
    if set(fields) - {"m", "cid"}:
        fail(400, "a webhook posts only m and cid")
    try:
        message, new = store().messages.post(
            hook["user"], hook["room"], text, cid, rate=settings().hook_rate, bot=hook["name"]
        )
    except RoomGone:
        fail(404, "no such webhook")
    except RateLimited as limited:
        too_many(limited.retry_after, "too many messages from this webhook")
    response.status = 201 if new else 200
    return message


def register(app) -> None:
    app.post("/v1/rooms/<roomid>/hooks", callback=create_hook)
    app.get("/v1/rooms/<roomid>/hooks", callback=list_hooks)
    app.delete("/v1/rooms/<roomid>/hooks/<id>", callback=revoke_hook)
    app.post("/v1/hooks/<token>", callback=post_by_hook)
