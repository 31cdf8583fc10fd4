"""Invitations to a room (by user id) and invite links (a secret token, stored only as its hash)."""

import hashlib
import secrets
from datetime import timedelta

import pymongo

from store.db import atomic, iso, now
from store.errors import Conflict, Forbidden, NotFound, NotMember, RoomGone, StoreError
from store.rooms import Rooms, invite_id, member_view, require_room

UNLIMITED = 10**12  # the uses left of a link without max_uses


class LinkDead(StoreError):
    """The link expired, was used up or was revoked."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Invites:
    """Each invitation is one document per (room, user), written in the transaction that records its event."""

    def __init__(self, db, rooms: Rooms, timeline, bus, limiter, feed):
        self._db = db
        self._feed = feed
        self._rooms = rooms
        self._timeline = timeline
        self._bus = bus
        self._limiter = limiter

    def _member_room(self, session, user: str, roomid: str) -> dict:
        """The room for one of its members (RoomGone / NotMember otherwise); Conflict for a direct message."""
        room = require_room(self._db, roomid, session, user)
        if "members" not in room:
            raise NotMember(roomid)
        if room.get("kind") == "dm":
            raise Conflict("nobody else can join a direct message")
        return room

    def invite(self, actor: str, roomid: str, target: str, rate=None) -> bool:
        """Invite a user; True when new, False when already invited. RoomGone, NotMember, NotFound, Conflict."""
        t = now()

        def work(session):
            self._member_room(session, actor, roomid)
            if self._db.users.find_one({"_id": target}, {"_id": 1}, session=session) is None:
                raise NotFound(target)
            if self._db.rooms.find_one({"_id": roomid, "members": target}, {"_id": 1}, session=session):
                raise Conflict("already a member")
            if self._db.invites.find_one({"_id": invite_id(roomid, target)}, {"_id": 1}, session=session):
                return None
            if rate:
                self._limiter.hit(f"invites:{actor}", *rate)
            room = self._timeline.advance(session, roomid)  # the membership read above conflicts with a leave
            self._db.invites.insert_one(
                {"_id": invite_id(roomid, target), "room": roomid, "user": target, "by": actor, "t": t}, session=session
            )
            return self._timeline.record(session, roomid, room, "invite", actor, t, {"userid": target})

        try:
            event = atomic(self._db, work)
        except pymongo.errors.DuplicateKeyError:  # the same invitation, sent twice at once
            return False
        if event is not None:
            self._bus.publish(roomid, event)
            self._feed.tell(target, "invitation", {"roomid": roomid, "by": actor, "t": iso(t)})
        return event is not None

    def pending(self, user: str) -> list[dict]:
        """The user's invitations to rooms that still exist, newest first: {roomid, name, by, t}."""
        invites = list(self._db.invites.find({"user": user}).sort("t", pymongo.DESCENDING).limit(1000))
        if not invites:
            return []
        names = {
            d["_id"]: d["name"]
            for d in self._db.rooms.find({"_id": {"$in": [i["room"] for i in invites]}}, {"name": 1})
        }
        return [
            {"roomid": i["room"], "name": names[i["room"]], "by": i["by"], "t": iso(i["t"])}
            for i in invites
            if i["room"] in names
        ]

    def decline(self, user: str, roomid: str) -> None:
        """Forget the user's invitation to the room (nothing when there is none: a retry is harmless)."""
        self._db.invites.delete_one({"_id": invite_id(roomid, user)})

    def create_link(self, actor: str, roomid: str, expires_in: int, max_uses: int | None, rate=None) -> dict:
        """A new invite link: {token, expires}; the token itself is never stored. RoomGone, NotMember, Conflict."""
        t = now()
        token = secrets.token_urlsafe(24)  # 192 bits
        expires = t + timedelta(seconds=expires_in)

        def work(session):
            self._member_room(session, actor, roomid)
            if rate:
                self._limiter.hit(f"links:{actor}", *rate)
            self._db.links.insert_one(
                {
                    "_id": token_hash(token),
                    "room": roomid,
                    "by": actor,
                    "t": t,
                    "expires": expires,
                    "left": UNLIMITED if max_uses is None else max_uses,
                    "revoked": False,
                },
                session=session,
            )

        atomic(self._db, work)
        return {"token": token, "expires": iso(expires)}

    def revoke(self, actor: str, roomid: str, token: str, admin: bool = False) -> None:
        """Revoke a link (its maker, the room's owner or an admin); again is harmless. RoomGone, NotFound, Forbidden."""
        room = require_room(self._db, roomid, user=None if admin else actor)
        if not admin and "members" not in room:
            raise NotMember(roomid)
        link = self._db.links.find_one({"_id": token_hash(token), "room": roomid}, {"by": 1})
        if link is None:
            raise NotFound(token)
        if not admin and actor not in (link["by"], room.get("owner")):
            raise Forbidden(token)
        self._db.links.update_one({"_id": link["_id"]}, {"$set": {"revoked": True}})

    def join(self, user: str, token: str) -> str:
        """Enter the link's room, using one of its uses (none when already a member); NotFound, LinkDead."""
        key = token_hash(token)
        link = self._db.links.find_one({"_id": key}, {"room": 1})
        if link is None:
            raise NotFound(token)
        roomid = link["room"]

        def use(session, room):
            taken = self._db.links.find_one_and_update(
                {"_id": key, "revoked": False, "left": {"$gt": 0}, "expires": {"$gt": now()}},
                {"$inc": {"left": -1}},
                projection={"_id": 1},
                session=session,
            )
            if taken is None:
                raise LinkDead(token)
            self._db.invites.delete_one({"_id": invite_id(roomid, user)}, session=session)

        member = self._db.rooms.find_one({"_id": roomid}, member_view(user))
        if member is None:
            raise NotFound(token)
        if "members" not in member:
            try:
                self._rooms.enter(user, roomid, admit=use)
            except RoomGone:
                raise NotFound(token) from None
        return roomid
