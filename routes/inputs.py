"""What the routes accept: the checks of ids, emails, text and paging that several routes share."""

import re
import unicodedata

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


# Refused in names: controls, format characters (zero-width, bidi overrides and marks), surrogates,
# private-use and unassigned code points, line and paragraph separators. ZERO WIDTH JOINER is kept
# between two symbols (emoji sequences such as 👩‍💻); anywhere else it hides text.
REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
ZWJ = "\u200d"
NAME_MAX = 64


def _joins_symbols(text: str, i: int) -> bool:
    before = text[i - 1] if i else ""
    after = text[i + 1] if i + 1 < len(text) else ""
    symbol = lambda c: bool(c) and (unicodedata.category(c) in ("So", "Sk") or c == "\ufe0f")  # noqa: E731
    return symbol(before) and symbol(after)


def clean_display(value, most: int) -> str:
    """A name people read: NFC, trimmed, runs of spaces made one, 1..`most` characters, nothing invisible.

    ValueError (saying why) for anything else."""
    if not isinstance(value, str):
        raise ValueError("must be a string")
    text = unicodedata.normalize("NFC", value)
    if len(text) <= 4 * most:
        for i, c in enumerate(text):
            if unicodedata.category(c) in REFUSED_CATEGORIES and not (c == ZWJ and _joins_symbols(text, i)):
                raise ValueError(f"must not contain control, format or invisible characters (U+{ord(c):04X})")
        text = " ".join(text.split())
    if not 1 <= len(text) <= most:
        raise ValueError(f"must be 1 to {most} characters after trimming")
    return text


def display_text(value, field: str, most: int) -> str:
    """clean_display, or 400 naming the field."""
    try:
        return clean_display(value, most)
    except ValueError as problem:
        fail(400, f"{field} {problem}")
