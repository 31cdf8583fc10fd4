"""Attention: read markers per member and room, @mentions, and the unread and mention counts of a user's rooms.

Message ids are dense (1, 2, 3... per room), so "unread" is arithmetic: the room's newest id minus the
member's marker, less the messages deleted since. Posting moves the poster's marker to the new message,
so one's own messages are never unread. Only deletions and mentions after a marker need the database:
one query for all of a user's rooms, reading only their unread ranges, never their history.
"""

import re
from datetime import timedelta

from store.db import WITHOUT_TERMS, atomic, now
from store.errors import NotMember, RoomGone
from store.timeline import head_of

# The plain form `@ann@example.com` (not inside a word) and the page's form `<@ann@example.com>`.
MENTION = re.compile(
    r"(?:(?<![\w@])@|<@)([^\s@<>()\[\]`*_~]{1,64}@[^\s@<>()\[\]`*_~]+\.[^\s@<>()\[\]`*_~.,;:!?'\"]+)>?"
)
ROOM_MENTION = re.compile(r"(?<![\w@])@room\b")
ROOM_MENTION_MAX = 100  # @room notifies everyone only in rooms up to this many members
MENTION_WINDOWS = 16  # mentions(): time windows read per page at most, each four times the last
FIRST_WINDOW = timedelta(days=1)
DELS_KEPT = 500  # a room keeps the ids of its last 500 deleted messages, for exact unread counts
LEVELS = ("all", "mentions", "nothing")  # what notifies a member: every message, mentions only, nothing


def default_level(kind: str) -> str:
    """A direct message notifies of every message, a room of mentions."""
    return "all" if kind == "dm" else "mentions"


def mentioned(text: str, members: list[str], author: str) -> list[str]:
    """The members a message mentions (never its author); a mention of a non-member notifies nobody."""
    if "@" not in text:
        return []
    found = {match.group(1).lower() for match in MENTION.finditer(text)}
    if ROOM_MENTION.search(text) and len(members) <= ROOM_MENTION_MAX:
        found |= set(members)
    present = set(members)
    return sorted(user for user in found if user in present and user != author)


def deleted_update(message_id: int) -> dict:
    """The room update that records a deleted message, for exact unread counts (merged into the delete's update)."""
    return {"$push": {"dels": {"$each": [message_id], "$slice": -DELS_KEPT}}, "$inc": {"ndel": 1}}


class Attention:
    def __init__(self, db):
        self._db = db

    def move(self, session, roomid: str, user: str, message_id: int, t) -> int:
        """Move the user's marker forward to `message_id` (posted at `t`), never back, inside a transaction."""
        key = f"{roomid}|{user}"
        doc = self._db.reads.find_one({"_id": key}, session=session)
        if doc is None:
            self._db.reads.insert_one(
                {"_id": key, "room": roomid, "u": user, "id": message_id, "t": t}, session=session
            )
            return message_id
        if doc["id"] < message_id:
            self._db.reads.update_one({"_id": key}, {"$set": {"id": message_id, "t": t}}, session=session)
            return message_id
        return doc["id"]

    def posted(self, session, roomid: str, user: str, message_id: int, t) -> None:
        """Move the poster's marker to their new message, inside its transaction: one upsert, no read (the
        message's id is the room's newest, taken in the same transaction, so `$max` only ever moves it forward)."""
        self._db.reads.update_one(
            {"_id": f"{roomid}|{user}"},
            {"$max": {"id": message_id, "t": t}, "$setOnInsert": {"room": roomid, "u": user}},
            upsert=True,
            session=session,
        )

    def forget(self, session, roomid: str, user: str | None = None) -> None:
        """Drop one member's marker (they left) or every marker of a room (it was deleted)."""
        if user is None:
            self._db.reads.delete_many({"room": roomid}, session=session)
            self._db.mentions.delete_many({"room": roomid}, session=session)
        else:
            self._db.reads.delete_one({"_id": f"{roomid}|{user}"}, session=session)

    def counts(self, user: str, rooms: list[dict]) -> dict[str, dict]:
        """roomid -> {"read", "unread", "mentions"} for room documents with `_id`, `seq`, `dels` and `ndel`.

        Two queries in all, whatever the number of rooms: the user's markers, and the user's mentions since
        the oldest unread marker. Deletions come from the room documents themselves (the ids of the last
        DELS_KEPT deleted messages); only a room with more deletions than that after a marker costs a count.
        """
        view = {"room": 1, "id": 1, "t": 1, "notify": 1}
        if len(rooms) == 1:  # one room (a marker moved): its marker by key, not all the user's
            found = self._db.reads.find_one({"_id": f"{rooms[0]['_id']}|{user}"}, view)
            markers = {found["room"]: found} if found else {}
        else:
            markers = {doc["room"]: doc for doc in self._db.reads.find({"u": user}, view)}
        result, since, from_start = {}, None, False
        for room in rooms:
            marker = markers.get(room["_id"], {"id": 0, "t": None})
            read = min(marker["id"], room["seq"])
            notify = marker.get("notify") or default_level(room.get("kind", "room"))
            dels = room.get("dels", [])
            gone = sum(1 for i in dels if i > read)
            if room.get("ndel", 0) > len(dels) and dels and read < dels[0]:  # deletions older than those kept
                query = {"room": room["_id"], "id": {"$gt": read, "$lt": dels[0]}, "deleted": True}
                gone += self._db.messages.count_documents(query)
            result[room["_id"]] = {"read": read, "unread": room["seq"] - read - gone, "mentions": 0, "notify": notify}
            if room["seq"] > read:
                if marker["t"] is None:
                    from_start = True  # a room never read: its mentions from the start
                else:
                    since = marker["t"] if since is None else min(since, marker["t"])
        if any(counts["unread"] for counts in result.values()):
            window = {"u": user} if from_start else {"u": user, "t": {"$gte": since}}
            for doc in self._db.mentions.find(window, {"room": 1, "id": 1}):
                counts = result.get(doc["room"])
                if counts and doc["id"] > counts["read"]:
                    counts["mentions"] += 1
        return result

    def mention(self, session, roomid: str, message_id: int, users: list[str], t) -> None:
        """Record who a message mentions (inside its transaction): one document per mentioned user."""
        if users:
            docs = [{"u": user, "room": roomid, "id": message_id, "t": t} for user in users]
            self._db.mentions.insert_many(docs, session=session)

    def unmention(self, session, roomid: str, message_id: int) -> None:
        """Forget a message's mentions (it was deleted, or is about to be recorded again after an edit)."""
        self._db.mentions.delete_many({"room": roomid, "id": message_id}, session=session)

    def mentions(
        self, user: str, rooms: set[str], limit: int, before: tuple | None = None
    ) -> tuple[list[dict], tuple | None]:
        """The messages mentioning the user in `rooms`, newest first, and the next page's cursor (None at the end).

        A cursor is (time, roomid, id) of the last mention given. Reads windows of time going back on the
        (u, t) index of `mentions`, each four times wider than the last, never a sort over the user's history.
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
            docs = self._db.mentions.find({"u": user, "t": {"$gte": low, "$lt": high}})
            found += [doc for doc in docs if doc["room"] in rooms]
            if before:
                found = [doc for doc in found if (doc["t"], doc["room"], doc["id"]) < before]
            high, width = low, width * 4
            if len(found) >= limit:
                break
        found.sort(key=lambda doc: (doc["t"], doc["room"], doc["id"]), reverse=True)
        page = found[:limit]
        last = page[-1] if len(page) == limit else None
        return self._messages_of(page), ((last["t"], last["room"], last["id"]) if last else None)

    def _messages_of(self, mentions: list[dict]) -> list[dict]:
        """The messages of a page of mentions, in its order: one query per room on the page."""
        by_room: dict[str, list[int]] = {}
        for doc in mentions:
            by_room.setdefault(doc["room"], []).append(doc["id"])
        found = {}
        for roomid, ids in by_room.items():
            for message in self._db.messages.find({"room": roomid, "id": {"$in": ids}}, WITHOUT_TERMS):
                found[(roomid, message["id"])] = message
        return [found[key] for doc in mentions if (key := (doc["room"], doc["id"])) in found]

    def set_level(self, user: str, roomid: str, level: str) -> str:
        """Set what notifies the member of this room (kept on their read marker: leaving forgets it).

        RoomGone / NotMember, as for the marker."""

        def work(session):
            view = {"visibility": 1, "members": {"$elemMatch": {"$eq": user}}}
            room = self._db.rooms.find_one({"_id": roomid}, view, session=session)
            if room is None or ("members" not in room and room.get("visibility") == "private"):
                raise RoomGone(roomid)
            if "members" not in room:
                raise NotMember(roomid)
            self._db.reads.update_one(
                {"_id": f"{roomid}|{user}"},
                {"$set": {"notify": level}, "$setOnInsert": {"room": roomid, "u": user, "id": 0, "t": None}},
                upsert=True,
                session=session,
            )

        atomic(self._db, work)
        return level

    def levels(self, roomid: str, users: list[str], kind: str) -> dict[str, str]:
        """user -> notification level in this room, for these members (one query)."""
        found = {doc["u"]: doc.get("notify") for doc in self._db.reads.find({"room": roomid, "u": {"$in": users}})}
        return {user: found.get(user) or default_level(kind) for user in users}

    def mark(self, user: str, roomid: str, message_id: int) -> int:
        """Move a member's marker forward to `message_id` (at most the newest); the marker. RoomGone / NotMember."""

        def work(session):
            view = {"visibility": 1, "members": {"$elemMatch": {"$eq": user}}}
            room = self._db.rooms.find_one({"_id": roomid}, view, session=session)
            if room is None or ("members" not in room and room.get("visibility") == "private"):
                raise RoomGone(roomid)  # private means invisible: as if it did not exist
            if "members" not in room:
                raise NotMember(roomid)
            head = head_of(self._db, roomid, session)
            if head is None:
                raise RoomGone(roomid)
            target = min(message_id, head["seq"])
            message = self._db.messages.find_one({"room": roomid, "id": target}, {"t": 1}, session=session)
            return self.move(session, roomid, user, target, message["t"] if message else now())

        return atomic(self._db, work)
