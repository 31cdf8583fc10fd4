"""What the routes accept: the checks of ids, emails, text and paging that several routes share."""

import re
import unicodedata

import regex
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


def message_id(value: str) -> int:
    """A message id from a path: 1..ID_MAX in at most ten digits; 400 otherwise."""
    if not (re.fullmatch(r"[0-9]{1,10}", value) and 1 <= int(value) <= ID_MAX):
        fail(400, f"the message id must be a whole number from 1 to {ID_MAX}")
    return int(value)


def reply_id(value) -> int | None:
    """`reply_to` of a new message: absent, or a message id (a JSON number, or digits in a form)."""
    if value is None:
        return None
    in_form = request.content_type.split(";")[0].strip().lower() != "application/json"
    if in_form and isinstance(value, str) and re.fullmatch(r"[0-9]{1,10}", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= ID_MAX:
        fail(400, f"reply_to must be a message id from 1 to {ID_MAX}")
    return value


EMOJI_MAX = 16  # code points in one emoji: the longest standard ZWJ sequences (families, kiss) have 11
# One extended grapheme cluster (the `regex` module follows the current Unicode segmentation rules).
ONE_CLUSTER = regex.compile(r"\X")
EMOJI_PART = regex.compile(r"[\p{Emoji}\p{Emoji_Component}\u200d\ufe0f\u20e3\U000e0020-\U000e007f]")
PICTURE = regex.compile(
    r"(?V1)[[\p{Extended_Pictographic}\p{Emoji_Presentation}]--[\p{Regional_Indicator}\p{Emoji_Modifier}]]"
    r"|\p{Regional_Indicator}{2}|[0-9#*]\ufe0f?\u20e3"
)


def one_emoji(value: str) -> str:
    """`value` when it is one emoji (a single grapheme cluster of emoji code points); 400 otherwise.

    Every code point must be part of emoji (pictographs, skin tones, ZWJ, variation selector 16, keycap,
    tags, regional indicators), and the cluster must show a picture: a pictograph, a flag (two regional
    indicators) or a keycap, so a bare digit, `#`, text, controls and invisible characters are refused."""
    if not (
        1 <= len(value) <= EMOJI_MAX
        and ONE_CLUSTER.fullmatch(value)
        and all(EMOJI_PART.fullmatch(c) for c in value)
        and PICTURE.search(value)
    ):
        fail(400, "the reaction must be one emoji")
    return value
