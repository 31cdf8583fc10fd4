"""A room's people and its moderation: members with presence, typing, renaming, removing, deleting."""

from bottle import HTTPResponse

from routes.common import current_user, fail, is_admin, read_fields, settings, store, too_many
from routes.inputs import clean_display, normal_email, valid_room_id
from store.errors import Conflict, Forbidden, NotFound, NotMember, RateLimited, RoomGone

ROOM_NAME_MAX = 100


def room_or_404(roomid) -> str:
    if not valid_room_id(roomid):
        fail(404, "no such room")
    return roomid


def list_members(roomid):
    """GET /v1/rooms/<roomid>/members: 200 {members: [{userid, name, avatar, role, online}]}; 403, 404, 401."""
    user = current_user()
    room_or_404(roomid)
    try:
        members, owner = store().rooms.members_of(user, roomid, admin=is_admin(user))
    except RoomGone:
        fail(404, "no such room")
    except NotMember:
        fail(403, "you are not a member of this room")
    profiles = store().users.profiles(members)
    online = store().presence.online(members)
    return {
        "members": [
            {
                **profiles.get(m, {"userid": m, "name": m.split("@")[0], "avatar": None}),
                "role": "owner" if m == owner else "member",
                "online": m in online,
            }
            for m in members
        ]
    }


def typing(roomid):
    """POST /v1/rooms/<roomid>/typing: 204, the room's streams get a `typing` event; 403, 404, 429, 401."""
    user = current_user()
    room_or_404(roomid)
    try:
        store().limiter.hit(f"typing:{user}", *settings().typing_rate)
        store().rooms.typing(user, roomid, store().users.profile(user)["name"])
    except RoomGone:
        fail(404, "no such room")
    except NotMember:
        fail(403, "you are not a member of this room")
    except RateLimited as limited:
        too_many(limited.retry_after, "too many typing notices")
    return HTTPResponse(status=204)


def room_changes(fields) -> dict:
    """The changes a PATCH asks for: name, visibility, owner; 400 for anything else."""
    if not fields or set(fields) - {"name", "visibility", "owner"}:
        fail(400, "give name, visibility and/or owner")
    changes = {}
    if "name" in fields:
        try:
            changes["name"] = clean_display(fields["name"], ROOM_NAME_MAX)
        except ValueError as problem:
            fail(400, f"name {problem}")
    if "visibility" in fields:
        if fields["visibility"] not in ("public", "private"):
            fail(400, "visibility must be public or private")
        changes["visibility"] = fields["visibility"]
    if "owner" in fields:
        owner = normal_email(fields["owner"])
        if owner is None:
            fail(400, "owner must be the email of a member")
        changes["owner"] = owner
    return changes


def change_room(roomid):
    """PATCH /v1/rooms/<roomid>: the owner (or an admin) renames, changes visibility, hands ownership; 200 room."""
    user = current_user()
    room_or_404(roomid)
    changes = room_changes(read_fields())
    try:
        return store().rooms.change(user, roomid, changes, admin=is_admin(user))
    except RoomGone:
        fail(404, "no such room")
    except Forbidden:
        fail(403, "only the room's owner can change it")
    except NotFound:
        fail(400, "the new owner must be a member")
    except Conflict as conflict:
        fail(409, str(conflict))


def remove_member(roomid, userid):
    """DELETE /v1/rooms/<roomid>/members/<userid>: the owner (or an admin) removes a member: 204; 403, 404, 409."""
    user = current_user()
    room_or_404(roomid)
    target = normal_email(userid)
    try:
        if target is None:
            raise NotFound(userid)
        store().rooms.remove(user, roomid, target, admin=is_admin(user))
    except RoomGone:
        fail(404, "no such room")
    except Forbidden:
        fail(403, "only the room's owner can remove members")
    except NotFound:
        fail(404, "no such member")
    except Conflict as conflict:
        fail(409, str(conflict))
    return HTTPResponse(status=204)


def delete_room(roomid):
    """DELETE /v1/rooms/<roomid>: an admin deletes the room and all in it: 204; 403 others, 404, 401."""
    user = current_user()
    room_or_404(roomid)
    admin = is_admin(user)
    try:
        if not admin:
            store().rooms.visible_to(user, roomid)  # a private room stays unknown to outsiders
            fail(403, "only an admin can delete a room")
        store().rooms.delete(user, roomid)
    except RoomGone:
        fail(404, "no such room")
    return HTTPResponse(status=204)


def register(app) -> None:
    app.get("/v1/rooms/<roomid>/members", callback=list_members)
    app.post("/v1/rooms/<roomid>/typing", callback=typing)
    app.patch("/v1/rooms/<roomid>", callback=change_room)
    app.delete("/v1/rooms/<roomid>", callback=delete_room)
    app.delete("/v1/rooms/<roomid>/members/<userid:re:[\\s\\S]+>", callback=remove_member)
