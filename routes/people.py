"""People: profiles, direct messages, invitations and invite links."""

import re

from bottle import HTTPResponse, request, response

from routes.common import current_user, fail, images, is_admin, read_fields, settings, store, too_many
from routes.inputs import NAME_MAX, display_text, normal_email, valid_room_id
from store.errors import Conflict, Forbidden, NotFound, NotMember, RateLimited, RoomGone
from store.invites import LinkDead

IMAGE_NAME = re.compile(r"images/[0-9a-f]{64}\.(?:png|jpg|gif|webp)\Z")  # the end of a stored image's URL
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
LINK_SECONDS = (60, 30 * 86400, 7 * 86400)  # shortest, longest and default life of an invite link
MAX_USES = 1000
AVATAR_MAX = 2048


def no_content() -> HTTPResponse:
    return HTTPResponse(status=204)


def me():
    """GET /auth/me: 200 {user, name, avatar} for a live session, else 401."""
    user = current_user()
    profile = store().users.profile(user)
    return {"user": user, "name": profile["name"], "avatar": profile["avatar"]}


def avatar_url(value) -> str | None:
    """None, or the URL of an image this service stored; 400 for anything else."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > AVATAR_MAX:
        fail(400, "avatar must be null or an image URL from POST /v1/image")
    found = IMAGE_NAME.search(value)
    name = found.group(0) if found else None
    if name is None or images().url(name) != value or not images().has(name):
        fail(400, "avatar must be null or an image URL from POST /v1/image")
    return value


def update_profile():
    """PUT /v1/profile: set name and/or avatar; 200 {userid, name, avatar}; 400, 401."""
    user = current_user()
    fields = read_fields()
    if set(fields) - {"name", "avatar"}:
        fail(400, "only name and avatar can be set")
    changes = {}
    if "name" in fields:
        changes["name"] = display_text(fields["name"], "name", NAME_MAX)
    if "avatar" in fields:
        changes["avatar"] = avatar_url(fields["avatar"])
    return store().users.update_profile(user, changes)


def show_user(userid):
    """GET /v1/users/<userid>: 200 {userid, name, avatar}; 404 unknown, 401."""
    current_user()
    email = normal_email(userid)
    try:
        if email is None:
            raise NotFound(userid)
        return store().users.profile(email)
    except NotFound:
        fail(404, "no such user")


def named_user(fields) -> str:
    """The `userid` of a body, an email; 400 otherwise."""
    userid = normal_email(fields.get("userid"))
    if userid is None:
        fail(400, "userid must be an email address")
    return userid


def start_direct():
    """POST /v1/dm: 200 {roomid} of the pair's one direct message room (made on first use); 400, 401, 404."""
    user = current_user()
    other = named_user(read_fields())
    if other != user and store().db.users.find_one({"_id": other}, {"_id": 1}) is None:
        fail(404, "no such user")
    return {"roomid": store().rooms.direct(user, other)}


def room_or_404(roomid) -> str:
    if not valid_room_id(roomid):
        fail(404, "no such room")
    return roomid


def invite(roomid):
    """POST /v1/rooms/<roomid>/invites: 201 {roomid, userid} (200 if already invited); 400, 403, 404, 409, 429."""
    user = current_user()
    room_or_404(roomid)
    target = named_user(read_fields())
    try:
        new = store().invites.invite(user, roomid, target, rate=settings().invite_rate)
    except RoomGone:
        fail(404, "no such room")
    except NotMember:
        fail(403, "you are not a member of this room")
    except NotFound:
        fail(404, "no such user")
    except Conflict as conflict:
        fail(409, str(conflict))
    except RateLimited as limited:
        too_many(limited.retry_after, "too many invitations")
    response.status = 201 if new else 200
    return {"roomid": roomid, "userid": target}


def list_invites():
    """GET /v1/invites: 200 {invites: [{roomid, name, by, t}]}, newest first; 401."""
    return {"invites": store().invites.pending(current_user())}


def decline(roomid):
    """DELETE /v1/invites/<roomid>: 204, the invitation (if any) is gone; 404 malformed id, 401."""
    user = current_user()
    if not valid_room_id(roomid):
        fail(404, "no such room")
    store().invites.decline(user, roomid)
    return no_content()


def link_field(fields, name: str, low: int, high: int, default):
    value = fields.get(name, default)
    if value is default:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        value = int(value)  # a form's number
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        fail(400, f"{name} must be a whole number from {low} to {high}")
    return value


def create_link(roomid):
    """POST /v1/rooms/<roomid>/links: 201 {token, url, expires}; 400, 403, 404, 409, 429."""
    user = current_user()
    room_or_404(roomid)
    fields = read_fields()
    if set(fields) - {"expires_in", "max_uses"}:
        fail(400, "only expires_in and max_uses can be given")
    shortest, longest, default = LINK_SECONDS
    expires_in = link_field(fields, "expires_in", shortest, longest, default)
    max_uses = link_field(fields, "max_uses", 1, MAX_USES, None)
    try:
        link = store().invites.create_link(user, roomid, expires_in, max_uses, rate=settings().link_rate)
    except RoomGone:
        fail(404, "no such room")
    except NotMember:
        fail(403, "you are not a member of this room")
    except Conflict as conflict:
        fail(409, str(conflict))
    except RateLimited as limited:
        too_many(limited.retry_after, "too many invite links")
    base = f"{request.urlparts.scheme}://{request.urlparts.netloc}"
    response.status = 201
    return {**link, "url": f"{base}/?join={link['token']}"}


def revoke_link(roomid, token):
    """DELETE /v1/rooms/<roomid>/links/<token>: 204 revoked (again: 204); 403, 404, 401."""
    user = current_user()
    room_or_404(roomid)
    if not TOKEN.fullmatch(token):
        fail(404, "no such link")
    try:
        store().invites.revoke(user, roomid, token, admin=is_admin(user))
    except RoomGone:
        fail(404, "no such room")
    except (NotMember, Forbidden):
        fail(403, "only the link's maker or the room's owner can revoke it")
    except NotFound:
        fail(404, "no such link")
    return no_content()


def join(token):
    """POST /v1/join/<token>: 200 {roomid}, the user is a member; 404 unknown, 410 expired/used up/revoked, 401."""
    user = current_user()
    if not TOKEN.fullmatch(token):
        fail(404, "no such link")
    try:
        return {"roomid": store().invites.join(user, token)}
    except NotFound:
        fail(404, "no such link")
    except LinkDead:
        fail(410, "this link expired, was used up or was revoked")


def register(app) -> None:
    app.get("/auth/me", callback=me)
    app.put("/v1/profile", callback=update_profile)
    app.get(r"/v1/users/<userid:re:[\s\S]+>", callback=show_user)
    app.post("/v1/dm", callback=start_direct)
    app.get("/v1/invites", callback=list_invites)
    app.delete("/v1/invites/<roomid>", callback=decline)
    app.post("/v1/rooms/<roomid>/invites", callback=invite)
    app.post("/v1/rooms/<roomid>/links", callback=create_link)
    app.delete("/v1/rooms/<roomid>/links/<token>", callback=revoke_link)
    app.post("/v1/join/<token>", callback=join)
