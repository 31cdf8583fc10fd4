"""Conversations: messages numbered 1, 2, 3... per room, read by sequence ranges."""
import pymongo
from pymongo import ReturnDocument

from store.db import atomic, iso, now
from store.errors import NotMember, RoomGone


def public_message(doc: dict) -> dict:
    return {"id": doc["id"], "m": doc["m"], "u": doc["u"], "t": iso(doc["t"])}


class Messages:
    def __init__(self, db, activity, bus, limiter):
        self._db = db
        self._activity = activity
        self._bus = bus
        self._limiter = limiter

    def post(self, user: str, roomid: str, text: str, cid: str | None = None,
             rate: tuple[int, int] | None = None) -> tuple[dict, bool]:
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
                {"_id": roomid, "members": user}, {"$inc": {"seq": 1}, "$set": {"active": t}},
                projection={"seq": 1}, return_document=ReturnDocument.AFTER, session=session)
            if room is None:
                if self._db.rooms.find_one({"_id": roomid}, {"_id": 1}, session=session) is None:
                    raise RoomGone(roomid)
                raise NotMember(roomid)
            doc = {"room": roomid, "id": room["seq"], "u": user, "m": text, "t": t}
            if cid is not None:
                doc["cid"] = cid
            self._db.messages.insert_one(doc, session=session)
            self._activity.record(user, "message", text, session=session, t=t)
            return doc
        try:
            doc = atomic(self._db, work)
        except pymongo.errors.DuplicateKeyError:
            first = self._by_cid(user, roomid, cid) if cid is not None else None
            if first is None:
                raise
            return first, False
        message = public_message(doc)
        self._bus.publish(roomid, "message", message)
        return message, True

    def _by_cid(self, user: str, roomid: str, cid: str) -> dict | None:
        doc = self._db.messages.find_one({"room": roomid, "u": user, "cid": cid})
        return public_message(doc) if doc else None

    def last_id(self, roomid: str) -> int:
        """The newest message id in the room (0 for none); RoomGone if the room does not exist."""
        room = self._db.rooms.find_one({"_id": roomid}, {"seq": 1})
        if room is None:
            raise RoomGone(roomid)
        return room["seq"]

    def page(self, user: str, roomid: str, limit: int = 100, before: int | None = None,
             after: int | None = None) -> list[dict]:
        """Oldest first: messages after `after` (catching up), else the newest before `before` (or overall).

        RoomGone / NotMember when the user may not read the room; one query decides both and the range.
        """
        room = self._db.rooms.find_one({"_id": roomid}, {"seq": 1, "members": {"$elemMatch": {"$eq": user}}})
        if room is None:
            raise RoomGone(roomid)
        if "members" not in room:
            raise NotMember(roomid)
        last = room["seq"]
        if after is not None:
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
        docs = self._db.messages.find({"room": roomid, "id": {"$gte": low, "$lte": high}},
                                      {"_id": 0, "id": 1, "m": 1, "u": 1, "t": 1})
        return [public_message(d) for d in sorted(docs, key=lambda d: d["id"])]
