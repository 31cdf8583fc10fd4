"""A room's timeline: every change to a room is an event at the room's next position, in one order.

A room's counters live in their own small document, its head in `timelines` (by room id): positions (`ev`)
beside message numbers (`seq`), changes to stored messages (`changed`), the newest message's time (`posted`),
the newest change's (`active`) with the room's `visibility` beside it (the public rooms list reads the
`(visibility, active)` index here), changes to who is in the room and how it is seen (`mev`, for store/rooms.py
MemberViews), and whether a member may have a push subscription (`push`). Apart from the room document, because
a post moves them: SecantusDB rewrites every index entry of a document it updates, and the room's `members`
index holds one entry per member (a post into a 500-member room cost the database 22 ms, 3 ms with the head
apart: bench/room_update.py). The transaction that makes a change takes the next position from the head and
checks the change is allowed, so positions commit in order and are dense; anything that would make the change
disallowed (a leave, a deletion) also moves or removes the head, so the two conflict and one of them is retried.
A message carries its position; every other event is a document in `events`. Both are kept as long as the room
exists, so a resume point never expires. A resume point names a position: `<message id>` for a message event
(the seed's SSE id), `<message id>.<position>` for any other event and for the start of a stream.
"""

import re
from dataclasses import dataclass

from pymongo import ReturnDocument

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


HEAD = {"seq": 1, "ev": 1, "changed": 1, "posted": 1, "active": 1, "visibility": 1, "mev": 1, "push": 1}


def head_of(db, roomid: str, session=None) -> dict | None:
    """A room's counters now (`HEAD`); None when the room does not exist."""
    return db.timelines.find_one({"_id": roomid}, HEAD, session=session)


def heads_of(db, roomids) -> dict[str, dict]:
    """roomid -> counters, for those of the rooms that exist (reads of 50 ids: `$in` grows worse than linearly
    on SecantusDB)."""
    roomids, found = list(roomids), {}
    for i in range(0, len(roomids), 50):
        found.update({d["_id"]: d for d in db.timelines.find({"_id": {"$in": roomids[i : i + 50]}}, HEAD)})
    return found


class Timeline:
    """Records events inside their change's transaction and replays them in bounded pages."""

    def __init__(self, db, render_messages):
        self._db = db
        self._render = render_messages  # (roomid, message documents) -> the messages as the API shows them now

    def open(self, session, roomid: str, t, visibility: str) -> dict:
        """A new room's head, inside its creation at `t`: no message yet, position 1 for its creator's entering."""
        head = {"_id": roomid, "seq": 0, "ev": 1, "changed": 0, "active": t, "visibility": visibility, "mev": 1}
        head["push"] = False
        self._db.timelines.insert_one(head, session=session)
        return head

    def advance(
        self, session, roomid: str, posted=None, changed: bool = False, membership=None, visibility=None
    ) -> dict | None:
        """Take the room's next position inside the change's transaction; the head after, or None when the room
        is gone. With `posted` (a message's time) also its next message id, and the room was active then; with
        `changed` its next change number (a stored message changed); with `membership` (the time) its next
        membership number (who is in it, or how it is seen, changed then), and its `visibility` if given."""
        inc = {"ev": 1, **({"seq": 1} if posted is not None else {}), **({"changed": 1} if changed else {})}
        moved = {}
        if posted is not None:
            moved.update(posted=posted, active=posted)
        if membership is not None:
            inc["mev"] = 1
            moved["active"] = membership
        if visibility is not None:
            moved["visibility"] = visibility
        update = {"$inc": inc, **({"$set": moved} if moved else {})}
        return self._db.timelines.find_one_and_update(
            {"_id": roomid}, update, projection=HEAD, return_document=ReturnDocument.AFTER, session=session
        )

    def count_change(self, session, roomid: str) -> dict | None:
        """Take the room's next change number without a position (messages changed with no event); the head."""
        update = {"$inc": {"changed": 1}}
        return self._db.timelines.find_one_and_update(
            {"_id": roomid}, update, projection=HEAD, return_document=ReturnDocument.AFTER, session=session
        )

    def close(self, session, roomid: str) -> None:
        """Remove a deleted room's head inside its deletion, so a change that read the room conflicts with it."""
        self._db.timelines.delete_one({"_id": roomid}, session=session)

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
        if len(docs) < high - low + 1:  # one document holds a position: only a range messages leave gaps in has events
            found += self._events(roomid, span)
        return sorted(found, key=lambda event: event.position)

    def _events(self, roomid: str, span: dict) -> list[Event]:
        """The events other than messages in a range of positions."""
        others = list(self._db.events.find(span))
        # An edit replays the message as it is now (one query for the page's edited messages).
        edited = sorted({doc["d"]["id"] for doc in others if doc["kind"] in RENDERED})
        now_shown = {}
        if edited:
            targets = list(self._db.messages.find({"room": roomid, "id": {"$in": edited}}, WITHOUT_TERMS))
            now_shown = {m["id"]: m for m in self._render(roomid, targets)}
        found = []
        for doc in others:
            data = now_shown.get(doc["d"]["id"], doc["d"]) if doc["kind"] in RENDERED else doc["d"]
            found.append(Event(doc["kind"], data, doc["ev"], token_for(doc["seq"], doc["ev"])))
        return found

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
