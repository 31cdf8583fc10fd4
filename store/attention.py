"""Attention: read markers per member and room, @mentions, and the unread and mention counts of a user's rooms.

Message ids are dense (1, 2, 3... per room), so "unread" is arithmetic: the room's newest id minus the
member's marker, less the messages deleted since. Posting moves the poster's marker to the new message,
so one's own messages are never unread. Only deletions and mentions after a marker need the database:
one query for all of a user's rooms, reading only their unread ranges, never their history.
"""

import re
from datetime import timedelta

from pymongo import ReturnDocument

from store.db import atomic, now
from store.errors import NotMember, RoomGone

# The plain form `@ann@example.com` (not inside a word) and the page's form `<@ann@example.com>`.
MENTION = re.compile(
    r"(?:(?<![\w@])@|<@)([^\s@<>()\[\]`*_~]{1,64}@[^\s@<>()\[\]`*_~]+\.[^\s@<>()\[\]`*_~.,;:!?'\"]+)>?"
)
ROOM_MENTION = re.compile(r"(?<![\w@])@room\b")
ROOM_MENTION_MAX = 100  # @room notifies everyone only in rooms up to this many members
MENTION_WINDOWS = 16  # mentions(): time windows read per page at most, each four times the last
FIRST_WINDOW = timedelta(days=1)


def mentioned(text: str, members: list[str], author: str) -> list[str]:
    """The members a message mentions (never its author); a mention of a non-member notifies nobody."""
    if "@" not in text:
        return []
    found = {match.group(1).lower() for match in MENTION.finditer(text)}
    if ROOM_MENTION.search(text) and len(members) <= ROOM_MENTION_MAX:
        found |= set(members)
    present = set(members)
    return sorted(user for user in found if user in present and user != author)


class Attention:
    def __init__(self, db):
        self._db = db

    def move(self, session, roomid: str, user: str, message_id: int) -> int:
        """Move the user's marker forward to `message_id` (never back) inside a transaction; the marker."""
        doc = self._db.reads.find_one_and_update(
            {"_id": f"{roomid}|{user}"},
            {"$max": {"id": message_id}, "$setOnInsert": {"room": roomid, "u": user}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        return doc["id"]

    def forget(self, session, roomid: str, user: str | None = None) -> None:
        """Drop one member's marker (they left) or every marker of a room (it was deleted)."""
        if user is None:
            self._db.reads.delete_many({"room": roomid}, session=session)
        else:
            self._db.reads.delete_one({"_id": f"{roomid}|{user}"}, session=session)

    def counts(self, user: str, rooms: list[dict]) -> dict[str, dict]:
        """roomid -> {"read", "unread", "mentions"} for room documents carrying `_id` and `seq`: two queries in all."""
        markers = {doc["room"]: doc["id"] for doc in self._db.reads.find({"u": user}, {"room": 1, "id": 1})}
        result = {}
        behind = []
        for room in rooms:
            read = min(markers.get(room["_id"], 0), room["seq"])
            result[room["_id"]] = {"read": read, "unread": room["seq"] - read, "mentions": 0}
            if room["seq"] > read:
                behind.append({"room": room["_id"], "id": {"$gt": read, "$lte": room["seq"]}})
        if behind:
            # Only the unread ranges are read, and only their deleted or mentioning messages come back.
            query = {"$and": [{"$or": behind}, {"$or": [{"deleted": True}, {"mentions": user}]}]}
            for doc in self._db.messages.find(query, {"room": 1, "deleted": 1}):
                counts = result[doc["room"]]
                if doc.get("deleted"):
                    counts["unread"] -= 1
                else:
                    counts["mentions"] += 1
        return result

    def mentions(
        self, user: str, rooms: set[str], limit: int, before: tuple | None = None
    ) -> tuple[list[dict], tuple | None]:
        """The user's mentions in `rooms`, newest first, and the cursor of the next page (None at the end).

        A cursor is (time, roomid, id) of the last mention given. Reads windows of time going back on the
        (mentions, t) index, each four times wider than the last, never a sort over the user's history.
        """
        high = now() + timedelta(seconds=1)
        if before:
            high = min(high, before[0] + timedelta(milliseconds=1))
        epoch = (self._db.counters.find_one({"_id": "rooms-epoch"}) or {"t": high})["t"]  # the first room's birth
        found, width = [], FIRST_WINDOW
        for _ in range(MENTION_WINDOWS):
            if high <= epoch:
                break
            low = max(high - width, epoch)
            docs = self._db.messages.find({"mentions": user, "t": {"$gte": low, "$lt": high}})
            found += [doc for doc in docs if doc["room"] in rooms and not doc.get("deleted")]
            if before:
                found = [doc for doc in found if (doc["t"], doc["room"], doc["id"]) < before]
            high, width = low, width * 4
            if len(found) >= limit:
                break
        found.sort(key=lambda doc: (doc["t"], doc["room"], doc["id"]), reverse=True)
        page = found[:limit]
        last = page[-1] if len(page) == limit else None
        return page, ((last["t"], last["room"], last["id"]) if last else None)

    def mark(self, user: str, roomid: str, message_id: int) -> int:
        """Move a member's marker forward to `message_id` (at most the newest); the marker. RoomGone / NotMember."""

        def work(session):
            room = self._db.rooms.find_one(
                {"_id": roomid}, {"seq": 1, "members": {"$elemMatch": {"$eq": user}}}, session=session
            )
            if room is None:
                raise RoomGone(roomid)
            if "members" not in room:
                raise NotMember(roomid)
            return self.move(session, roomid, user, min(message_id, room["seq"]))

        return atomic(self._db, work)
