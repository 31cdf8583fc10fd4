"""What the routes accept: the checks of ids, emails, text and paging that several routes share."""

import re

from bottle import request

from routes.common import fail

ID_MAX = 9_999_999_999  # the largest id a page may name (`before`, `after`): ten digits
MESSAGE_MAX = 4000
CID_MAX = 64


EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s.]+")


def normal_email(value) -> str | None:
    """The user id for an email, or None when it is not a plausible email string."""
    if not isinstance(value, str):
        return None
    email = value.strip().lower()
    if len(email) > 254 or not EMAIL.fullmatch(email) or any(ord(c) < 32 or c == "\x7f" for c in email):
        return None
    return email


ROOM_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def valid_room_id(value) -> bool:
    return isinstance(value, str) and ROOM_ID.fullmatch(value) is not None


def bounded_int(name: str, default: int | None, low: int, high: int) -> int | None:
    """A query parameter as an int within [low, high]; ValueError for anything else."""
    raw = request.query.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"[0-9]{1,10}", raw) or not low <= int(raw) <= high:
        raise ValueError(name)
    return int(raw)


def message_text(value) -> str:
    if not isinstance(value, str):
        fail(400, "m must be a string")
    text = value.strip()
    if not 1 <= len(text) <= MESSAGE_MAX:
        fail(400, f"m must be 1 to {MESSAGE_MAX} characters after trimming")
    return text
