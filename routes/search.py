"""Search: find messages in the user's rooms."""

import re

from bottle import request

from routes.common import current_user, fail, store
from routes.inputs import bounded_int, normal_email, valid_room_id
from store.errors import NotMember, RoomGone
from store.search import QueryError, parse_query

CURSOR = re.compile(r"[1-9][0-9]{0,17}")


def query_text(name: str) -> str | None:
    """A query parameter as text: None when absent; 400 when repeated, not UTF-8, or holding NUL."""
    values = request.query.getall(name)
    if not values:
        return None
    if len(values) > 1:
        fail(400, f"{name} must be given once")
    try:
        text = values[0].encode("latin-1").decode("utf-8")  # bottle hands query values over as latin-1
    except UnicodeError:
        fail(400, f"{name} must be valid UTF-8 (no lone surrogates)")
    if "\x00" in text:
        fail(400, f"{name} must not contain NUL characters")
    return text


def search():
    """GET /v1/search?q=&roomid=&from=&before=&limit=: 200 {results, next} newest first; 400 {error}, 403."""
    user = current_user()
    q = query_text("q")
    if q is None:
        fail(400, "q is required")
    try:
        groups = parse_query(q)
    except QueryError as error:
        fail(400, str(error))
    try:
        limit = bounded_int("limit", 20, 1, 100)
    except ValueError:
        fail(400, "limit must be an integer from 1 to 100")
    before = query_text("before")
    if before is not None and not CURSOR.fullmatch(before):
        fail(400, "before must be a `next` value from an earlier page")
    roomid = query_text("roomid")
    if roomid is not None and not valid_room_id(roomid):
        fail(400, "no such room")
    sender = query_text("from")
    if sender is not None and normal_email(sender) is None:
        fail(400, "from must be a user id (an email)")
    try:
        results, after = store().search.search(
            user,
            groups,
            limit=limit,
            before=int(before) if before else None,
            roomid=roomid,
            sender=normal_email(sender) if sender else None,
        )
    except RoomGone:
        fail(400, "no such room")
    except NotMember:
        fail(403, "you are not a member of this room")
    return {"results": results, "next": str(after) if after else None}


def register(app) -> None:
    app.get("/v1/search", callback=search)
