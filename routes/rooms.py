"""Rooms: list all and mine, enter (or create) and leave."""

from bottle import HTTPResponse

from routes.common import check_self, current_user, json_answer, read_fields, store
from routes.inputs import bounded_int, clean_display, normal_email, valid_room_id
from store.errors import NotMember, RoomGone

NAME_MAX = 100


def wrong_format():
    """The original API's answer to a malformed body: plain text."""
    raise HTTPResponse("wrong request format", 400, {"Content-Type": "text/plain; charset=utf-8"})


def list_rooms(userid):
    """GET /v1/room/<userid>: 200 {allrooms, join_rooms}; 400 null for a bad userid or limit, 401, 403."""
    current_user()
    userid = normal_email(userid)
    try:
        limit = bounded_int("limit", 100, 1, 1000)
    except ValueError:
        limit = None
    if userid is None or limit is None:
        return json_answer(400, None)
    check_self(userid)
    rooms = store().rooms
    return {"allrooms": rooms.recent(limit), "join_rooms": rooms.joined(userid)}


def room_action():
    """POST /v1/room: enter (or create with roomid null) or leave; 200 {roomid}, 400 {roomid: null} or text."""
    user = current_user()
    try:
        fields = read_fields()
    except HTTPResponse as refused:
        if refused.status_code == 400:  # any malformed body gets the original API's answer
            wrong_format()
        raise
    userid, action, roomid, name = (fields.get(k) for k in ("userid", "action", "roomid", "name"))
    visibility = fields.get("visibility", "public")
    if isinstance(name, str) and name.strip():
        try:
            name = clean_display(name, NAME_MAX)
        except ValueError:
            wrong_format()
    if (
        normal_email(userid) is None
        or action not in ("enter", "leave")
        or not (roomid is None or valid_room_id(roomid))
        or not (name is None or (isinstance(name, str) and len(name.strip()) <= NAME_MAX))
        or (action == "leave" and roomid is None)
        or "roomid" not in fields
        or visibility not in ("public", "private")
    ):
        wrong_format()
    check_self(normal_email(userid))
    rooms = store().rooms
    try:
        if roomid is None:
            return {"roomid": rooms.create(user, (name or "").strip() or "Untitled room", visibility)}
        if action == "enter":
            rooms.enter(user, roomid)
            return {"roomid": roomid}
        return {"roomid": "room deleted" if rooms.leave(user, roomid) else roomid}
    except (RoomGone, NotMember):
        return json_answer(400, {"roomid": None})


def register(app) -> None:
    app.get(r"/v1/room/<userid:re:[\s\S]+>", callback=list_rooms)  # any characters, "/" included (emails may hold one)
    app.post("/v1/room", callback=room_action)
