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

from store.db import iso

PAGE = 500  # positions per read while replaying
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

    def __init__(self, db, render_message):
        self._db = db
        self._render = render_message  # message document -> the message as the API shows it now

    def record(self, session, roomid: str, room: dict, kind: str, user: str, t, data: dict | None = None) -> Event:
        """Store an event at the position `room` (the room after its update) was given; return it."""
        payload = {"u": user, "t": iso(t), **(data or {})}
        self._db.events.insert_one(
            {"room": roomid, "ev": room["ev"], "seq": room["seq"], "kind": kind, "d": payload}, session=session
        )
        return Event(kind, payload, room["ev"], token_for(room["seq"], room["ev"]))

    def message_event(self, doc: dict) -> Event:
        """The `message` event of a stored message (its SSE id is the message id)."""
        return Event("message", self._render(doc), doc["ev"], str(doc["id"]))

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
        found = [self.message_event(doc) for doc in self._db.messages.find(span)]
        for doc in self._db.events.find(span):
            found.append(Event(doc["kind"], doc["d"], doc["ev"], token_for(doc["seq"], doc["ev"])))
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
