"""A room's timeline: every change to a room is an event at the room's next position, in one order.

The room document counts positions (`ev`) beside its message numbers (`seq`); the transaction that
makes a change takes the next position with the same conditional update that checks the change is
allowed, so positions commit in order and are dense. A message carries its position; every other
event is a document in `events`. Both are kept as long as the room exists, so a resume point
never expires. A resume point names a position: `<message id>` for a message event (the seed's SSE
id), `<message id>.<position>` for any other event and for the start of a stream.
"""

import re
from dataclasses import dataclass

from store.db import WITHOUT_TERMS, iso

PAGE = 500  # positions per read while replaying
# Kinds whose data is a message as it is now: stored as the message id alone and rendered when replayed,
# so no copy of a message's text outlives its deletion.
RENDERED = frozenset({"edit"})
TOKEN = re.compile(r"([0-9]{1,16})(?:\.([0-9]{1,16}))?")


@dataclass(frozen=True)
class Event:
    """One event of a room's timeline as a stream sends it: `position` orders, `token` resumes."""

    kind: str
    data: dict
    position: int
    token: str


def token_for(seq: int, position: int) -> str:
    """The resume point after the event at `position`, when `seq` messages exist."""
    return f"{seq}.{position}"


def parse_token(text: str) -> tuple[int, int | None] | None:
    """(message id, position or None) of a resume point; None when it is not one."""
    match = TOKEN.fullmatch(text.strip())
    if not match:
        return None
    return int(match.group(1)), (int(match.group(2)) if match.group(2) is not None else None)


class Timeline:
    """Records events inside their change's transaction and replays them in bounded pages."""

    def __init__(self, db, render_messages):
        self._db = db
        self._render = render_messages  # (roomid, message documents) -> the messages as the API shows them now

    def record(self, session, roomid: str, room: dict, kind: str, user: str, t, data: dict | None = None) -> Event:
        """Store an event at the position `room` (the room after its update) was given; return it."""
        payload = {"u": user, "t": iso(t), **(data or {})}
        kept = {"id": payload["id"]} if kind in RENDERED else payload
        self._db.events.insert_one(
            {"room": roomid, "ev": room["ev"], "seq": room["seq"], "kind": kind, "d": kept}, session=session
        )
        return Event(kind, payload, room["ev"], token_for(room["seq"], room["ev"]))

    def position_of(self, roomid: str, token: tuple[int, int | None], newest: int) -> int:
        """The position a parsed resume point names, at most `newest` (a point beyond the end is the end)."""
        message_id, position = token
        if position is None:
            if message_id == 0:
                return 0
            doc = self._db.messages.find_one({"room": roomid, "id": message_id}, {"ev": 1})
            position = doc["ev"] if doc else newest
        return min(position, newest)

    def between(self, roomid: str, low: int, high: int) -> list[Event]:
        """The events at positions low..high, in order: one bounded range per collection."""
        if high < low:
            return []
        span = {"room": roomid, "ev": {"$gte": low, "$lte": high}}
        docs = list(self._db.messages.find(span, WITHOUT_TERMS))
        found = [
            Event("message", message, doc["ev"], str(doc["id"]))
            for doc, message in zip(docs, self._render(roomid, docs), strict=True)
        ]
        if len(docs) == high - low + 1:  # one document holds a position: messages fill the range, no event is in it
            return sorted(found, key=lambda event: event.position)
        others = list(self._db.events.find(span))
        # An edit replays the message as it is now (one query for the page's edited messages).
        edited = sorted({doc["d"]["id"] for doc in others if doc["kind"] in RENDERED})
        now_shown = {}
        if edited:
            targets = list(self._db.messages.find({"room": roomid, "id": {"$in": edited}}, WITHOUT_TERMS))
            now_shown = {m["id"]: m for m in self._render(roomid, targets)}
        for doc in others:
            data = now_shown.get(doc["d"]["id"], doc["d"]) if doc["kind"] in RENDERED else doc["d"]
            found.append(Event(doc["kind"], data, doc["ev"], token_for(doc["seq"], doc["ev"])))
        return sorted(found, key=lambda event: event.position)

    def after(self, roomid: str, sent: int, high: int):
        """Pages of the events after `sent` up to `high`, each a list, so a long replay keeps memory flat."""
        while sent < high:
            top = min(high, sent + PAGE)
            page = self.between(roomid, sent + 1, top)
            sent = top
            if page:
                yield page

    def drop_room(self, roomid: str) -> None:
        """Forget a deleted room's events (nothing can read them once the room is gone)."""
        self._db.events.delete_many({"room": roomid})
