"""Rooms: create, enter, leave (deleting the room with its last member), and listings."""

import secrets
from datetime import timedelta

from pymongo import ReturnDocument

from store.bus import Bus
from store.db import atomic, iso, now
from store.errors import NotMember, RoomGone
from store.timeline import Event, Timeline

ROOM_FIELDS = {"name": 1, "n": 1, "created": 1, "active": 1}
POSITION = {"seq": 1, "ev": 1}  # a room's newest message id and newest timeline position


def require_room(db, roomid: str, session=None) -> None:
    """RoomGone unless the room exists: why a conditional update on it matched nothing."""
    if db.rooms.find_one({"_id": roomid}, {"_id": 1}, session=session) is None:
        raise RoomGone(roomid)


def public_room(doc: dict) -> dict:
    return {"roomid": doc["_id"], "name": doc["name"], "members": doc["n"], "created": iso(doc["created"])}


class Rooms:
    """Every transition is one conditional update inside a transaction with its activity entry."""

    def __init__(self, db, activity, bus: Bus, timeline: Timeline, search):
        self._db = db
        self._search = search
        self._activity = activity
        self._bus = bus
        self._timeline = timeline

    def create(self, user: str, name: str) -> str:
        """Create a room with the user as its only member; return its id."""
        roomid, t = secrets.token_urlsafe(9), now()

        def work(session):
            room = {
                "_id": roomid,
                "name": name,
                "members": [user],
                "n": 1,
                "seq": 0,
                "ev": 1,
                "created": t,
                "active": t,
            }
            self._db.rooms.insert_one(room, session=session)
            self._activity.record(user, "create", roomid, session=session, t=t)
            return self._timeline.record(session, roomid, room, "enter", user, t)

        event = atomic(self._db, work)
        self._db.counters.update_one({"_id": "rooms-epoch"}, {"$min": {"t": t}}, upsert=True)
        self._bus.publish(roomid, event)
        return roomid

    def enter(self, user: str, roomid: str) -> bool:
        """Put the user in the room; False when already a member. RoomGone if it does not exist."""
        t = now()

        def work(session):
            joined = self._db.rooms.find_one_and_update(
                {"_id": roomid, "members": {"$ne": user}},
                {"$push": {"members": user}, "$inc": {"n": 1, "ev": 1}, "$set": {"active": t}},
                projection=POSITION,
                return_document=ReturnDocument.AFTER,
                session=session,
            )
            if joined:
                self._activity.record(user, "enter", roomid, session=session, t=t)
                return self._timeline.record(session, roomid, joined, "enter", user, t)
            require_room(self._db, roomid, session)
            return None

        event = atomic(self._db, work)
        if event:
            self._bus.publish(roomid, event)
        return event is not None

    def leave(self, user: str, roomid: str) -> bool:
        """Take the user out; return True when that deleted the room. RoomGone / NotMember otherwise."""
        t = now()

        def work(session):
            # Either others stay (pull), or the user is the last member (delete): exactly one can match.
            left = self._db.rooms.find_one_and_update(
                {"_id": roomid, "members": user, "n": {"$gt": 1}},
                {"$pull": {"members": user}, "$inc": {"n": -1, "ev": 1}, "$set": {"active": t}},
                projection=POSITION,
                return_document=ReturnDocument.AFTER,
                session=session,
            )
            if left:
                self._activity.record(user, "leave", roomid, session=session, t=t)
                return self._timeline.record(session, roomid, left, "leave", user, t)
            if self._db.rooms.find_one_and_delete(
                {"_id": roomid, "members": user, "n": 1}, projection={"_id": 1}, session=session
            ):
                self._activity.record(user, "leave", roomid, session=session, t=t)
                self._activity.record(user, "delete", roomid, session=session, t=t)
                return None
            require_room(self._db, roomid, session)
            raise NotMember(roomid)

        event = atomic(self._db, work)
        if event is None:
            # The room is gone, so nothing can read or add to its conversation any more.
            self._db.messages.delete_many({"room": roomid})
            self._timeline.drop_room(roomid)
            self._search.drop_room(roomid)
            self._bus.publish(roomid, Event("deleted", {"roomid": roomid, "t": iso(t)}, None, None))
        else:
            self._bus.publish(roomid, event)
        return event is None

    def position_for(self, user: str, roomid: str) -> tuple[int, int] | None:
        """(newest message id, newest position) for a member, None for anyone else; RoomGone if there is no room."""
        room = self._db.rooms.find_one({"_id": roomid}, {**POSITION, "members": {"$elemMatch": {"$eq": user}}})
        if room is None:
            raise RoomGone(roomid)
        return (room["seq"], room["ev"]) if "members" in room else None

    def joined(self, user: str) -> list[dict]:
        """The user's rooms, most recently active first."""
        docs = self._db.rooms.find({"members": user}, ROOM_FIELDS)
        return [public_room(d) for d in sorted(docs, key=lambda d: d["active"], reverse=True)]

    def recent(self, limit: int) -> list[dict]:
        """At most `limit` rooms, most recently active first.

        Reads time slices of the `active` index going back, each four times wider than the last,
        until it has `limit` rooms or reaches the first room ever created: no sort over all rooms.
        """
        t = now()
        epoch = self._db.counters.find_one({"_id": "rooms-epoch"}) or {"t": t}
        docs, newest, width = [], t + timedelta(days=1), timedelta(hours=1)
        while len(docs) < limit and newest >= epoch["t"]:
            oldest = t - width
            docs += self._db.rooms.find({"active": {"$gte": oldest, "$lt": newest}}, ROOM_FIELDS)
            newest, width = oldest, width * 4
        docs.sort(key=lambda d: d["active"], reverse=True)
        return [public_room(d) for d in docs[:limit]]
