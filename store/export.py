"""A user's data as one JSON document, produced in chunks: memory stays flat however long the history.

Every read is bounded: messages by id ranges of each room (the `room, id` index), activity by `_id`
ranges (the `u, _id` index); nothing sorts or holds more than one range at a time.
"""

import json
from collections.abc import Iterator

from store.activity import public_entry
from store.db import iso, now
from store.timeline import head_of

RANGE = 2000  # message ids per read
ACTIVITY_RANGE = 2000  # activity ids per read
OWN_FIELDS = {"room": 1, "id": 1, "u": 1, "t": 1, "m": 1, "deleted": 1, "edited": 1, "reply": 1}
JOINS = {"act": 1, "m": 1}


def _dump(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _array(items: Iterator) -> Iterator[str]:
    """A JSON array, one chunk per range of items."""
    yield "["
    first = True
    for batch in items:
        if batch:
            yield ("" if first else ",") + ",".join(_dump(item) for item in batch)
            first = False
    yield "]"


def own_message(doc: dict) -> dict:
    message = {"room": doc["room"], "id": doc["id"], "t": iso(doc["t"])}
    if doc.get("deleted"):
        message["deleted"] = True
    else:
        message["m"] = doc["m"]
    if "edited" in doc:
        message["edited"] = iso(doc["edited"])
    if "reply" in doc:
        message["reply_to"] = doc["reply"]
    return message


class Export:
    def __init__(self, db, users, rooms, sessions):
        self._db = db
        self._users = users
        self._rooms = rooms
        self._sessions = sessions

    def rooms_ever(self, user: str) -> list[str]:
        """Rooms the user is in or once created or entered (messages outlive a membership)."""
        found = self._rooms.ids_of(user)
        for low in self._activity_ranges():
            # Filtered here, not in the query: SecantusDB reads `act` filters far slower than the range alone.
            entries = self._db.activity.find({"u": user, "_id": {"$gte": low, "$lt": low + ACTIVITY_RANGE}}, JOINS)
            found.update(e["m"] for e in entries if e["act"] in ("create", "enter") and e.get("m"))
        return sorted(found)

    def _activity_ranges(self) -> range:
        counter = self._db.counters.find_one({"_id": "activity"}) or {"n": 0}
        return range(0, counter["n"] + 1, ACTIVITY_RANGE)

    def own_messages(self, user: str, roomids: list[str], fields: dict) -> Iterator[list[dict]]:
        """The user's messages in these rooms, one id range of a room at a time, oldest first.

        The range is read whole and filtered here: with `u` in the query SecantusDB picks the
        (room, u, cid) index and reads a range a hundred times slower."""
        return self.messages_where(roomids, {**fields, "u": 1}, lambda d: d["u"] == user)

    def reacted(self, user: str, roomids: list[str]) -> Iterator[list[dict]]:
        """The messages in these rooms that the user reacted to ({room, id, reactions}), read as own_messages."""
        fields = {"room": 1, "id": 1, "reactions": 1}
        return self.messages_where(roomids, fields, lambda d: any(user in r["u"] for r in d.get("reactions", ())))

    def messages_where(self, roomids: list[str], fields: dict, keep) -> Iterator[list[dict]]:
        """The messages in these rooms that `keep(doc)` accepts, one whole id range of a room at a time."""
        for roomid in roomids:
            room = head_of(self._db, roomid)
            for low in range(1, (room or {}).get("seq", 0) + 1, RANGE):
                docs = self._db.messages.find({"room": roomid, "id": {"$gte": low, "$lt": low + RANGE}}, fields)
                yield sorted((d for d in docs if keep(d)), key=lambda d: d["id"])

    def _messages(self, user: str, roomids: list[str]) -> Iterator[list[dict]]:
        for docs in self.own_messages(user, roomids, OWN_FIELDS):
            yield [own_message(d) for d in docs]

    def _activity(self, user: str) -> Iterator[list[dict]]:
        for low in self._activity_ranges():
            docs = self._db.activity.find({"u": user, "_id": {"$gte": low, "$lt": low + ACTIVITY_RANGE}})
            yield [public_entry(d) for d in sorted(docs, key=lambda d: d["_id"])]

    def chunks(self, user: str, current_session: str | None = None) -> Iterator[str]:
        """The document `{"exported", "profile", "rooms", "messages", "activity", "sessions"}` in pieces."""
        profile = self._users.profile(user)
        created = self._db.users.find_one({"_id": user}, {"created": 1}).get("created")
        profile["created"] = iso(created) if created else None
        rooms = [
            {"roomid": d["_id"], "name": d["name"], "kind": d.get("kind", "room")}
            for d in self._db.rooms.find({"members": user}, {"name": 1, "kind": 1})
        ]
        yield f'{{"exported":{_dump(iso(now()))},"profile":{_dump(profile)},"rooms":{_dump(rooms)},"messages":'
        yield from _array(self._messages(user, self.rooms_ever(user)))
        yield ',"activity":'
        yield from _array(self._activity(user))
        yield f',"sessions":{_dump(self._sessions.of(user, current_session))}}}'
