"""Rooms: create (public, private or a direct message), enter, leave, moderate, delete; and listings.

A private room (and every direct message) is invisible to anyone who is not in it: each read and
write here raises RoomGone for them, exactly as for a room that does not exist.
"""

import secrets
import threading
import time
from collections import OrderedDict
from datetime import timedelta

import pymongo
from pymongo import ReturnDocument

from store.attention import Attention
from store.bus import Bus
from store.db import atomic, iso, now
from store.errors import Conflict, Forbidden, NotFound, NotMember, RoomGone
from store.feed import Feed
from store.timeline import HEAD, Event, Timeline, head_of, heads_of

ROOM_FIELDS = {"name": 1, "n": 1, "created": 1, "visibility": 1, "kind": 1, "owner": 1, "pair": 1}
JOINED = {**ROOM_FIELDS, "dels": 1, "ndel": 1}  # what `joined` lists a room by, with its head (store/timeline.py)
PUBLIC = {"visibility": "public"}


def member_view(user: str) -> dict:
    """A projection that says whether `user` is a member without loading every member."""
    return {"visibility": 1, "kind": 1, "pair": 1, "owner": 1, "members": {"$elemMatch": {"$eq": user}}}


def visible(doc: dict | None, user: str | None) -> bool:
    """The room exists and `user` may know it: public, or they are in it (a member_view projection)."""
    return doc is not None and (user is None or doc.get("visibility", "public") == "public" or "members" in doc)


def require_room(db, roomid: str, session=None, user: str | None = None) -> dict:
    """RoomGone unless the room exists (and, given a user, is visible to them): why an update matched nothing."""
    doc = db.rooms.find_one({"_id": roomid}, member_view(user or ""), session=session)
    if not visible(doc, user):
        raise RoomGone(roomid)
    return doc


class MemberViews:
    """Whether a room is visible to a user and they are in it, kept per process for the requests that need no
    more (a page, a post, a room stream's start, typing) and served only at the membership number it was read at.

    Coherent across processes by construction. Every change to what a view holds (the members, the visibility) moves
    the room's membership number (`mev` on its head, store/timeline.py) in the change's own transaction, and the
    head goes with the room. A caller reads the head first and passes it; a view is kept with the number of the head
    read before it, so it holds that state or a later one: a later one only when a change committed after that head
    read, i.e. concurrently with the request, which may be ordered either way; and no head read after that change
    commits shows the old number again. Inside a transaction (a post) the head's update comes first: a change after
    its snapshot moves the same head, so the transaction conflicts and is retried with a fresh head.
    """

    MAX = 50_000  # (room, user) pairs kept (about 300 bytes each), least recently used dropped

    def __init__(self, db):
        self._db = db
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple[str, str], tuple[int, str, bool]] = OrderedDict()  # number, visibility, in

    def of(self, user: str, roomid: str, head: dict, session=None) -> dict | None:
        """{"visibility", "members": [user] when a member} of the room as of `head` (just read or updated by the
        caller), as `member_view` reads it; None if the room is gone."""
        key, number = (roomid, user), head.get("mev")  # a head from before membership numbers: never kept
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and kept[0] == number:
                self._kept.move_to_end(key)
                return self._view(roomid, user, kept[1], kept[2])
        view = {"visibility": 1, "members": {"$elemMatch": {"$eq": user}}}
        doc = self._db.rooms.find_one({"_id": roomid}, view, session=session)
        if doc is not None and number is not None:
            with self._lock:
                kept = self._kept.get(key)
                if kept is None or kept[0] <= number:
                    self._kept[key] = (number, doc.get("visibility", "public"), "members" in doc)
                    self._kept.move_to_end(key)
                    while len(self._kept) > self.MAX:
                        self._kept.popitem(last=False)
        return doc

    @staticmethod
    def _view(roomid: str, user: str, visibility: str, member: bool) -> dict:
        return {"_id": roomid, "visibility": visibility, **({"members": [user]} if member else {})}


def pair_key(first: str, second: str) -> str:
    """The one key of a pair of users, whoever starts the conversation."""
    return "\n".join(sorted((first, second)))


def public_room(doc: dict) -> dict:
    return {
        "roomid": doc["_id"],
        "name": doc["name"],
        "members": doc["n"],
        "created": iso(doc["created"]),
        "visibility": doc.get("visibility", "public"),
        "kind": doc.get("kind", "room"),
        "owner": doc.get("owner"),
    }


class Rooms:
    """Every transition is one conditional update inside a transaction with its activity entry and event."""

    def __init__(
        self,
        db,
        activity,
        bus: Bus,
        timeline: Timeline,
        attention: Attention,
        feed: Feed,
        views: MemberViews,
        names=None,
    ):
        self._attention = attention
        self._views = views
        self._feed = feed
        self._db = db
        self._activity = activity
        self._bus = bus
        self._timeline = timeline
        self._names = names  # userids -> {userid: display name}, for the names of direct messages

    def migrate(self) -> None:
        """Give rooms made before visibility, kinds, owners and heads their defaults (idempotent)."""
        moved = [field for field in HEAD if field != "visibility"]  # the room keeps its visibility too
        for doc in self._db.rooms.find({"ev": {"$exists": True}}, {**HEAD, "created": 1}):
            head = {"seq": doc.get("seq", 0), "ev": doc["ev"], "changed": doc.get("changed", 0), "mev": doc["ev"]}
            head["visibility"] = doc.get("visibility", "public")
            head["active"] = doc.get("active") or doc.get("created") or now()
            for field in ("posted", "push"):  # a room without `push` is from before it: always push (note_push)
                if field in doc:
                    head[field] = doc[field]
            self._db.timelines.update_one({"_id": doc["_id"]}, {"$setOnInsert": head}, upsert=True)
            self._db.rooms.update_one({"_id": doc["_id"]}, {"$unset": dict.fromkeys(moved, "")})
        self._db.rooms.update_many({"visibility": {"$exists": False}}, {"$set": {"visibility": "public"}})
        self._db.rooms.update_many({"kind": {"$exists": False}}, {"$set": {"kind": "room"}})
        for doc in self._db.rooms.find({"owner": {"$exists": False}}, {"members": 1}):
            owner = doc["members"][0] if doc.get("members") else None
            self._db.rooms.update_one({"_id": doc["_id"], "owner": {"$exists": False}}, {"$set": {"owner": owner}})

    def create(self, user: str, name: str, visibility: str = "public") -> str:
        """Create a room with the user as its only member and owner; return its id."""
        return self._insert(user, [user], name, visibility, "room")

    def _insert(self, user: str, members: list[str], name: str, visibility: str, kind: str, pair=None) -> str:
        roomid, t = secrets.token_urlsafe(9), now()

        def work(session):
            room = {
                "_id": roomid,
                "name": name,
                "members": [user],
                "n": 1,
                "created": t,
                "visibility": visibility,
                "kind": kind,
                "owner": user,
            }
            if pair is not None:
                room["pair"], room["pairkey"] = pair, pair_key(*pair)
            self._db.rooms.insert_one(room, session=session)
            head = self._timeline.open(session, roomid, t, visibility)
            listed = public_room(room)
            self._activity.record(user, "create", roomid, session=session, t=t)
            events = [self._timeline.record(session, roomid, head, "enter", user, t)]
            for other in members[1:]:
                joined = {"$push": {"members": other}, "$inc": {"n": 1}}
                self._db.rooms.update_one({"_id": roomid}, joined, session=session)
                head = self._timeline.advance(session, roomid, membership=t)
                events.append(self._timeline.record(session, roomid, head, "enter", other, t))
            return events, (self._feed.record(session, "room", listed) if visibility == "public" else None)

        events, listed = atomic(self._db, work)
        self.note_push(roomid, members)
        self._db.counters.update_one({"_id": "rooms-epoch"}, {"$min": {"t": t}}, upsert=True)
        for event in events:
            self._bus.publish(roomid, event)
        for event in events:  # each member's own stream follows the room from their entering on
            self._feed.tell(event.data["u"], "joined", {"roomid": roomid, "ev": event.position - 1})
        if listed:
            self._feed.publish(listed)
        return roomid

    def direct(self, user: str, other: str) -> str:
        """The pair's one direct message room: created on first use (both in it), rejoined by one who left."""
        pair = sorted({user, other}) if user != other else [user, user]
        existing = self._db.rooms.find_one({"pairkey": pair_key(*pair)}, {"_id": 1})
        if existing is None:
            try:
                return self._insert(user, list(dict.fromkeys([user, other])), "", "private", "dm", pair)
            except pymongo.errors.DuplicateKeyError:  # the other one started it at the same moment
                existing = self._db.rooms.find_one({"pairkey": pair_key(*pair)}, {"_id": 1})
                if existing is None:
                    raise
        try:
            self.enter(user, existing["_id"])
        except RoomGone:  # its last member left just now: start afresh
            return self.direct(user, other)
        return existing["_id"]

    def enter(self, user: str, roomid: str, admit=None) -> bool:
        """Put the user in the room; False when already a member. RoomGone if it does not exist or is
        private and the user may not come in: `admit(session, room)` (an invitation or link, consumed in
        the same transaction) decides that, else a pending invitation of theirs does."""
        t = now()

        def work(session):
            room = self._db.rooms.find_one({"_id": roomid}, member_view(user), session=session)
            if room is None:
                raise RoomGone(roomid)
            if "members" in room:
                return None
            if admit is not None:
                admit(session, room)
            elif room.get("kind") == "dm":
                if user not in room.get("pair", []):
                    raise RoomGone(roomid)
            elif room.get("visibility") == "private":
                if not self._db.invites.find_one_and_delete({"_id": invite_id(roomid, user)}, session=session):
                    raise RoomGone(roomid)
            else:
                self._db.invites.delete_one({"_id": invite_id(roomid, user)}, session=session)
            self._db.rooms.update_one(
                {"_id": roomid, "members": {"$ne": user}},
                {"$push": {"members": user}, "$inc": {"n": 1}},
                session=session,
            )
            head = self._timeline.advance(session, roomid, membership=t)
            self._activity.record(user, "enter", roomid, session=session, t=t)
            # What came before is not news: the marker starts at the newest message.
            self._attention.move(session, roomid, user, head["seq"], head.get("posted") or t)
            return self._timeline.record(session, roomid, head, "enter", user, t)

        event = atomic(self._db, work)
        if event:
            self.note_push(roomid, [user])
            self._bus.publish(roomid, event)
            self._feed.tell(user, "joined", {"roomid": roomid, "ev": event.position - 1})
        return event is not None

    def note_push(self, roomid: str, joined: list[str]) -> None:
        """After members joined (committed): flag the room if one of them has a push subscription.

        `push` on a room's head means "a member may have a push subscription": a post queues its push task only
        then. A subscription flags its user's rooms after it is stored (store/push.py), and a join reads the
        subscriptions after the membership is stored, so of a join and a subscription at the same moment at
        least one sees the other. The flag is never cleared (too many flags cost a task, too few a notification);
        rooms from before it have none and always queue the task."""
        if self._db.push.find_one({"u": {"$in": joined}}, {"_id": 1}) is not None:
            self._db.timelines.update_one({"_id": roomid, "push": False}, {"$set": {"push": True}})

    def leave(self, user: str, roomid: str) -> bool:
        """Take the user out; return True when that deleted the room. RoomGone / NotMember otherwise."""
        return self._take_out(user, roomid, user, "leave")

    def remove(self, actor: str, roomid: str, target: str, admin: bool = False) -> None:
        """The owner (or an admin) takes a member out: a `removed` event. RoomGone, Forbidden, NotFound, Conflict."""
        room = self._moderated(actor, roomid, admin)
        if room.get("kind") == "dm":
            raise Conflict("a direct message has no one to remove")
        if target == actor:
            raise Conflict("leave the room instead")
        self._take_out(target, roomid, actor, "removed", None if admin else actor)

    def _take_out(self, user: str, roomid: str, actor: str, kind: str, owner: str | None = None) -> bool:
        t = now()
        guard = {} if owner is None else {"owner": owner}

        def work(session):
            # Either others stay (pull), or the user is the last member (delete): exactly one can match.
            left = self._db.rooms.find_one_and_update(
                {"_id": roomid, "members": user, "n": {"$gt": 1}, **guard},
                {"$pull": {"members": user}, "$inc": {"n": -1}},
                projection={"members": 1, "owner": 1},
                return_document=ReturnDocument.AFTER,
                session=session,
            )
            if left:
                data = {"u": user, "by": actor} if kind == "removed" else {}
                if left.get("owner") == user:  # ownership passes to the longest-standing member
                    self._db.rooms.update_one({"_id": roomid}, {"$set": {"owner": left["members"][0]}}, session=session)
                    data["owner"] = left["members"][0]
                self._activity.record(user, "leave", roomid, session=session, t=t)
                self._attention.forget(session, roomid, user)
                head = self._timeline.advance(session, roomid, membership=t)
                return self._timeline.record(session, roomid, head, kind, actor, t, data)
            deleted = kind == "leave" and self._db.rooms.find_one_and_delete(
                {"_id": roomid, "members": user, "n": 1}, projection={"visibility": 1}, session=session
            )
            if deleted:
                self._timeline.close(session, roomid)
                self._activity.record(user, "leave", roomid, session=session, t=t)
                self._activity.record(user, "delete", roomid, session=session, t=t)
                return self._unlisted(session, deleted)
            room = require_room(self._db, roomid, session, None if kind == "removed" else user)
            if owner is not None and room.get("owner") != owner:
                raise Forbidden(roomid)
            if kind == "removed":
                member = self._db.rooms.find_one({"_id": roomid, "members": user}, {"_id": 1}, session=session)
                raise Conflict("the last member leaves instead") if member else NotFound(user)
            raise NotMember(roomid)

        event = atomic(self._db, work)
        if event is None or event.kind == "unlisted":
            self._drop(roomid, t, event)
            return True
        self._bus.publish(roomid, event)
        return False

    def delete(self, actor: str, roomid: str) -> None:
        """An admin deletes a room with everything in it; RoomGone if there is none."""
        t = now()

        def work(session):
            deleted = self._db.rooms.find_one_and_delete({"_id": roomid}, projection={"visibility": 1}, session=session)
            if not deleted:
                raise RoomGone(roomid)
            self._timeline.close(session, roomid)
            self._activity.record(actor, "delete", roomid, session=session, t=t)
            return self._unlisted(session, deleted)

        self._drop(roomid, t, atomic(self._db, work))

    def _unlisted(self, session, room: dict) -> Event | None:
        """A public room left the public list (deleted or made private): a feed entry; None for a private one."""
        if room.get("visibility", "public") != "public":
            return None
        return self._feed.record(session, "unlisted", {"roomid": room["_id"]})

    def _drop(self, roomid: str, t, unlisted: Event | None = None) -> None:
        # The room is gone, so nothing can read or add to its conversation, invitations or links any more.
        self._db.messages.delete_many({"room": roomid})
        self._db.invites.delete_many({"room": roomid})
        self._db.links.delete_many({"room": roomid})
        self._timeline.drop_room(roomid)
        self._attention.forget(None, roomid)
        self._bus.publish(roomid, Event("deleted", {"roomid": roomid, "t": iso(t)}, None, None))
        if unlisted:
            self._feed.publish(unlisted)

    def _moderated(self, actor: str, roomid: str, admin: bool) -> dict:
        """The room for its owner or an admin; RoomGone when the actor may not see it, Forbidden when not the owner."""
        room = require_room(self._db, roomid, user=None if admin else actor)
        if not admin and room.get("owner") != actor:
            raise Forbidden(roomid) if "members" in room or room.get("visibility") == "public" else RoomGone(roomid)
        return room

    def change(self, actor: str, roomid: str, changes: dict, admin: bool = False) -> dict:
        """Rename, change visibility or hand ownership to a member: one conditional update and an `updated` event."""
        room = self._moderated(actor, roomid, admin)
        if room.get("kind") == "dm":
            raise Conflict("a direct message cannot be changed")
        t = now()
        guard = {} if admin else {"owner": actor}
        if "owner" in changes:
            guard["members"] = changes["owner"]

        def work(session):
            changed = self._db.rooms.find_one_and_update(
                {"_id": roomid, **guard},
                {"$set": changes},
                projection=ROOM_FIELDS,
                return_document=ReturnDocument.AFTER,
                session=session,
            )
            if changed is None:
                now_room = require_room(self._db, roomid, session, None if admin else actor)
                if not admin and now_room.get("owner") != actor:
                    raise Forbidden(roomid)  # ownership went elsewhere meanwhile
                raise NotFound(changes.get("owner"))  # the new owner is not a member
            # Visibility or owner may have changed: a membership number (member views hold the visibility).
            head = self._timeline.advance(session, roomid, membership=t, visibility=changes.get("visibility"))
            event = self._timeline.record(session, roomid, head, "updated", actor, t, changes)
            # People outside the room see the public list change: the room shows, is renamed, or leaves it.
            listed, shown = None, changed.get("visibility", "public") == "public"
            if shown and ("name" in changes or "visibility" in changes):
                listed = self._feed.record(session, "room", public_room(changed))
            elif changes.get("visibility") == "private":
                listed = self._feed.record(session, "unlisted", {"roomid": roomid})
            return changed, event, listed

        changed, event, listed = atomic(self._db, work)
        self._bus.publish(roomid, event)
        if listed:
            self._feed.publish(listed)
        return public_room(changed)

    def typing(self, user: str, roomid: str, name: str) -> None:
        """Tell the room's streams the user is typing: never stored. RoomGone / NotMember."""
        if self.position_for(user, roomid) is None:
            raise NotMember(roomid)
        self._bus.publish(roomid, Event("typing", {"u": user, "name": name}, None, None))

    def members_of(self, user: str, roomid: str, admin: bool = False) -> tuple[list[str], str | None]:
        """(members in the order they came, owner) for a member or an admin; RoomGone / NotMember."""
        doc = self._db.rooms.find_one({"_id": roomid}, {"members": 1, "owner": 1, "visibility": 1})
        if doc is None:
            raise RoomGone(roomid)
        if user not in doc["members"] and not admin:
            raise NotMember(roomid) if doc.get("visibility", "public") == "public" else RoomGone(roomid)
        return doc["members"], doc.get("owner")

    def visible_to(self, user: str, roomid: str, admin: bool = False) -> dict:
        """The room (a member_view) if the user may know it exists; RoomGone otherwise."""
        return require_room(self._db, roomid, user=None if admin else user)

    def exists(self, roomid: str) -> bool:
        """Whether the room exists at all (for telling a deleted room from one the user may no longer see)."""
        return self._db.rooms.find_one({"_id": roomid}, {"_id": 1}) is not None

    def position_for(self, user: str, roomid: str) -> tuple[int, int] | None:
        """(newest message id, newest position) for a member, None for a non-member of a public room;
        RoomGone if there is no room or it is private to others. One read of the head, and of the room only when
        this process has no member view at its membership number."""
        head = head_of(self._db, roomid)
        room = self._views.of(user, roomid, head) if head is not None else None
        if not visible(room, user):
            raise RoomGone(roomid)
        return (head["seq"], head["ev"]) if "members" in room else None

    def joined(self, user: str, roomid: str | None = None, docs: list[dict] | None = None) -> list[dict]:
        """The user's rooms and direct messages (or just `roomid`, when they are in it; or the user's room
        documents `following` read), most recently active first, each with its unread and mention counts for
        the user; a DM is named for the other person."""
        if docs is None:
            query = {"members": user} if roomid is None else {"_id": roomid, "members": user}
            docs = self._headed(list(self._db.rooms.find(query, JOINED)))
        docs = sorted(docs, key=lambda d: d["active"], reverse=True)
        others = {self._other(d, user) for d in docs if d.get("kind") == "dm"}
        names = self._names(others) if others and self._names else {}
        counts = self._attention.counts(user, docs)
        rooms = []
        for doc in docs:
            room = {**public_room(doc), **counts[doc["_id"]]}
            room["last_message"] = iso(doc["posted"]) if doc.get("posted") else None
            if doc.get("kind") == "dm":
                other = self._other(doc, user)
                room["name"], room["with"] = names.get(other, other), other
            rooms.append(room)
        return rooms

    def ids_of(self, user: str) -> set[str]:
        """The ids of the user's rooms now."""
        return {doc["_id"] for doc in self._db.rooms.find({"members": user}, {"_id": 1})}

    def positions_of(self, user: str) -> dict[str, int]:
        """roomid -> newest timeline position, for each of the user's rooms now (their ids, then their heads)."""
        return self.positions(list(self.ids_of(user)))

    def positions(self, roomids: list[str]) -> dict[str, int]:
        """roomid -> newest timeline position, for those of the rooms that exist."""
        return {roomid: head["ev"] for roomid, head in heads_of(self._db, roomids).items()}

    def following(self, user: str) -> tuple[dict[str, int], set[str], list[dict]]:
        """(roomid -> newest position, everyone who shares a room with the user (the user included), the room
        documents for `joined`): the user's rooms read once and their heads once, for a stream's start."""
        docs = list(self._db.rooms.find({"members": user}, {**JOINED, "members": 1}))
        people = {user}.union(*(doc.pop("members") for doc in docs))
        docs = self._headed(docs)
        return {doc["_id"]: doc["ev"] for doc in docs}, people, docs

    def _headed(self, docs: list[dict]) -> list[dict]:
        """Room documents with their heads' counters (`seq`, `ev`, `posted`); a room deleted meanwhile left out."""
        heads = heads_of(self._db, [doc["_id"] for doc in docs])
        return [{**doc, **heads[doc["_id"]]} for doc in docs if doc["_id"] in heads]

    @staticmethod
    def _other(doc: dict, user: str) -> str:
        pair = doc.get("pair") or [user, user]
        return pair[1] if pair[0] == user else pair[0]

    def recent(self, limit: int) -> list[dict]:
        """At most `limit` public rooms, most recently active first.

        Reads time slices of the heads' `(visibility, active)` index going back, each four times wider than
        the last, until it has `limit` rooms or reaches the first room ever created, then those rooms (by id,
        50 a read): no sort over all rooms, and private rooms and direct messages are never read.
        """
        t = now()
        epoch = self._db.counters.find_one({"_id": "rooms-epoch"}) or {"t": t}
        heads, newest, width = [], t + timedelta(days=1), timedelta(hours=1)
        while len(heads) < limit and newest >= epoch["t"]:
            oldest = t - width
            heads += self._db.timelines.find({**PUBLIC, "active": {"$gte": oldest, "$lt": newest}}, {"active": 1})
            newest, width = oldest, width * 4
        order = [head["_id"] for head in sorted(heads, key=lambda head: head["active"], reverse=True)[:limit]]
        found = {}
        for i in range(0, len(order), 50):  # `$in` grows worse than linearly on SecantusDB
            found.update({d["_id"]: d for d in self._db.rooms.find({"_id": {"$in": order[i : i + 50]}}, ROOM_FIELDS)})
        return [public_room(found[roomid]) for roomid in order if roomid in found]


def invite_id(roomid: str, user: str) -> str:
    return f"{roomid}\n{user}"


class Listing:
    """The public rooms that user streams start with (`Rooms.recent`), read once for the streams of this
    process that stand at the same feed position within a few seconds of each other, instead of once per
    stream: a hundred room documents is the largest read of a stream's start, and pages reconnect together.

    Coherent by construction. Which public rooms exist, their names and visibility change only with a feed
    entry (store/feed.py), and a list is shared only by streams whose feed position is the one read before
    it: every later change reaches each of them as a feed event. What changes without an entry (members
    counts, the order by activity) is at most SHARED_SECONDS older than the stream; the page never updates
    those live anyway.
    """

    SHARED_SECONDS = 5.0

    def __init__(self, rooms: Rooms):
        self._rooms = rooms
        self._lock = threading.Lock()
        self._kept: tuple[int, int, float, list[dict]] | None = None  # (feed position, limit, when read, rooms)

    def at(self, feed: int, limit: int) -> list[dict]:
        """At most `limit` public rooms, most recently active first, for a stream at feed position `feed`
        (the head it read after it began listening to the feed)."""
        with self._lock:  # streams starting together wait for one read rather than each making it
            kept = self._kept
            if kept is None or kept[:2] != (feed, limit) or time.monotonic() - kept[2] > self.SHARED_SECONDS:
                kept = self._kept = (feed, limit, time.monotonic(), self._rooms.recent(limit))
            return kept[3]
