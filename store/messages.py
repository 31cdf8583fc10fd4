"""Conversations: messages numbered 1, 2, 3... per room, read by sequence ranges."""

import threading
from collections import OrderedDict
from contextlib import contextmanager

import pymongo
from pymongo import ReturnDocument

from store.bus import Bus
from store.db import atomic, iso, now
from store.errors import NotMember, RoomGone
from store.limits import Limiter
from store.rooms import require_room
from store.timeline import Event


class KeyedLocks:
    """One lock per key, forgotten when unused.

    Posts to one room from one process queue here instead of colliding in the database, where a
    conflicting transaction is aborted and retried after a backoff. Correctness never depends on
    it: across processes the transaction alone keeps ids dense and ordered.
    """

    def __init__(self):
        self._guard = threading.Lock()
        self._locks: dict[str, list] = {}  # key -> [lock, holders]

    @contextmanager
    def hold(self, key: str):
        with self._guard:
            entry = self._locks.setdefault(key, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._guard:
                entry[1] -= 1
                if not entry[1]:
                    del self._locks[key]


class MessageCache:
    """Recently read or posted messages of recently used rooms, in this process.

    Always coherent without any signal: a message never changes once stored, room ids are never
    reused, and every read checks the room (and membership) in the database first.
    """

    def __init__(self, rooms: int = 256, per_room: int = 512):
        self._guard = threading.Lock()
        self._rooms: OrderedDict[str, dict[int, dict]] = OrderedDict()
        self._max_rooms, self._per_room = rooms, per_room

    def get(self, roomid: str, low: int, high: int) -> list[dict] | None:
        """The messages low..high if all are here, else None."""
        with self._guard:
            room = self._rooms.get(roomid)
            if room is None or any(i not in room for i in range(low, high + 1)):
                return None
            self._rooms.move_to_end(roomid)
            return [room[i] for i in range(low, high + 1)]

    def put(self, roomid: str, messages: list[dict]) -> None:
        with self._guard:
            room = self._rooms.setdefault(roomid, {})
            self._rooms.move_to_end(roomid)
            room.update((m["id"], m) for m in messages)
            for oldest in sorted(room)[: max(0, len(room) - self._per_room)]:
                del room[oldest]
            while len(self._rooms) > self._max_rooms:
                self._rooms.popitem(last=False)


def public_message(doc: dict) -> dict:
    return {"id": doc["id"], "m": doc["m"], "u": doc["u"], "t": iso(doc["t"])}


class Messages:
    def __init__(self, db, activity, bus: Bus, limiter: Limiter, search=None):
        self._db = db
        self._search = search
        self._activity = activity
        self._bus = bus
        self._limiter = limiter
        self._room_locks = KeyedLocks()
        self._cache = MessageCache()

    def post(
        self, user: str, roomid: str, text: str, cid: str | None = None, rate: tuple[int, int] | None = None
    ) -> tuple[dict, bool]:
        """Store a message; return it and whether it is new (False: the same cid was posted before)."""
        if cid is not None:
            first = self._by_cid(user, roomid, cid)
            if first:
                return first, False
        if rate:
            self._limiter.hit(f"messages:{user}", *rate)
        t = now()

        def work(session):
            # The sequence number and the message commit together, so ids become visible in order.
            room = self._db.rooms.find_one_and_update(
                {"_id": roomid, "members": user},
                {"$inc": {"seq": 1, "ev": 1}, "$set": {"active": t}},
                projection={"seq": 1, "ev": 1},
                return_document=ReturnDocument.AFTER,
                session=session,
            )
            if room is None:
                require_room(self._db, roomid, session)
                raise NotMember(roomid)
            doc = {"room": roomid, "id": room["seq"], "ev": room["ev"], "u": user, "m": text, "t": t}
            if cid is not None:
                doc["cid"] = cid
            self._db.messages.insert_one(doc, session=session)
            order = self._activity.record(user, "message", text, session=session, t=t)
            if self._search is not None:  # the index commits with the text (bench/search_post.py measures it off)
                self._search.index(session, roomid, doc["id"], text, user, order)
            return doc

        try:
            with self._room_locks.hold(roomid):
                doc = atomic(self._db, work)
        except pymongo.errors.DuplicateKeyError:
            first = self._by_cid(user, roomid, cid) if cid is not None else None
            if first is None:
                raise
            return first, False
        message = public_message(doc)
        self._cache.put(roomid, [message])
        self._bus.publish(roomid, Event("message", message, doc["ev"], str(doc["id"])))
        return message, True

    def _by_cid(self, user: str, roomid: str, cid: str) -> dict | None:
        doc = self._db.messages.find_one({"room": roomid, "u": user, "cid": cid})
        return public_message(doc) if doc else None

    def last_id_for(self, user: str, roomid: str) -> int | None:
        """The newest message id for a member, None for anyone else; RoomGone if the room does not exist."""
        room = self._db.rooms.find_one({"_id": roomid}, {"seq": 1, "members": {"$elemMatch": {"$eq": user}}})
        if room is None:
            raise RoomGone(roomid)
        return room["seq"] if "members" in room else None

    def page(
        self,
        user: str,
        roomid: str,
        limit: int = 100,
        before: int | None = None,
        after: int | None = None,
        around: int | None = None,
    ) -> list[dict]:
        """Oldest first: messages after `after` (catching up), else the newest before `before` (or overall);
        or the `limit` ids centred on `around` (half older, the rest newer, shifted to stay within 1..newest).

        RoomGone / NotMember when the user may not read the room; one query decides both and the range.
        """
        last = self.last_id_for(user, roomid)
        if last is None:
            raise NotMember(roomid)
        if around is not None:
            low = max(1, min(around - (limit - 1) // 2, last - limit + 1))
            high = min(last, low + limit - 1)
        elif after is not None:
            low = after + 1
            high = min(last, after + limit, before - 1 if before is not None else last)
        else:
            high = min(last, before - 1) if before is not None else last
            low = max(1, high - limit + 1)
        return self.between(roomid, low, high)

    def between(self, roomid: str, low: int, high: int) -> list[dict]:
        """Messages with low <= id <= high, oldest first: one bounded range on the (room, id) index."""
        if high < low:
            return []
        cached = self._cache.get(roomid, low, high)
        if cached is not None:
            return cached
        docs = self._db.messages.find(
            {"room": roomid, "id": {"$gte": low, "$lte": high}}, {"_id": 0, "id": 1, "m": 1, "u": 1, "t": 1}
        )
        messages = [public_message(d) for d in sorted(docs, key=lambda d: d["id"])]
        self._cache.put(roomid, messages)
        return messages
