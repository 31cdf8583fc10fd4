"""Conversations: messages numbered 1, 2, 3... per room, read by sequence ranges; edits, deletions, reactions."""

import threading
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field

import pymongo

from store.attention import Attention, deleted_update, mentioned
from store.bus import Bus
from store.db import atomic, iso, now
from store.errors import BadReply, Forbidden, MessageDeleted, NoMessage, NotMember, RoomGone, TooManyReactions
from store.limits import Limiter
from store.rooms import MemberViews, require_room, visible
from store.timeline import Event, Timeline, head_of
from store.users import DELETED_NAME


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


@dataclass
class CachedRoom:
    """Some of a room's messages as stored, and `mark`: every entry reflects every change numbered up to it."""

    mark: int
    docs: dict[int, dict] = field(default_factory=dict)


class MessageCache:
    """Recently read or posted messages of recently used rooms, in this process, kept coherent by the database.

    Messages change (edits, deletions, reactions), and other processes change them. Every change bumps
    the room's `changed` counter (on its head, store/timeline.py) and stamps the message with the new value
    (`c`) in one transaction, and every read already reads the head (for the newest id), `changed` included.
    A room's entries are served only when its mark has reached that value: before that, the messages changed
    since the mark are read again (one bounded query on the `(room, c)` index) or, past CATCH_UP_MAX of them,
    the room is dropped. An entry is replaced only by a version at least as new (by `c`), and entries read at
    an older room state lower the mark, so no interleaving of threads can leave an old version behind a newer
    mark.
    """

    def __init__(self, rooms: int = 256, per_room: int = 512):
        self._guard = threading.Lock()
        self._rooms: OrderedDict[str, CachedRoom] = OrderedDict()
        self._max_rooms, self._per_room = rooms, per_room

    def get(self, roomid: str, low: int, high: int, changed: int, catch_up) -> list[dict] | None:
        """The stored messages low..high as of room state `changed` if all are here, else None.

        `catch_up(mark)` returns the messages changed after `mark` (None when there are too many)."""
        with self._guard:
            room = self._rooms.get(roomid)
            if room is None:
                return None
            mark = room.mark
        if mark < changed:
            fresh = catch_up(mark)
            with self._guard:
                room = self._rooms.get(roomid)
                if room is None:
                    return None
                if fresh is None:
                    room.docs.clear()
                else:
                    self._update(room, fresh, insert=False)
                if room.mark == mark:  # a put meanwhile may have lowered it: then that lower mark stands
                    room.mark = changed
        with self._guard:
            room = self._rooms.get(roomid)
            if room is None or room.mark < changed or any(i not in room.docs for i in range(low, high + 1)):
                return None
            self._rooms.move_to_end(roomid)
            return [room.docs[i] for i in range(low, high + 1)]

    def put(self, roomid: str, docs: list[dict], changed: int) -> None:
        """Keep messages read (or written) when the room's `changed` was at least `changed`."""
        with self._guard:
            room = self._rooms.get(roomid)
            if room is None:
                room = self._rooms[roomid] = CachedRoom(changed)
            room.mark = min(room.mark, changed)
            self._rooms.move_to_end(roomid)
            self._update(room, docs)
            for oldest in sorted(room.docs)[: max(0, len(room.docs) - self._per_room)]:
                del room.docs[oldest]
            while len(self._rooms) > self._max_rooms:
                self._rooms.popitem(last=False)

    @staticmethod
    def _update(room: CachedRoom, docs: list[dict], insert: bool = True) -> None:
        for doc in docs:
            held = room.docs.get(doc["id"])
            if (held is None and insert) or (held is not None and held.get("c", 0) <= doc.get("c", 0)):
                room.docs[doc["id"]] = doc


REPLY_SNIPPET = 200  # characters of the replied-to message a reply shows
USERS_SHOWN = 10  # users a reaction names (the first, in reaction order); `count` counts them all
REACTIONS_MAX = 20  # distinct reactions per message
CATCH_UP_MAX = 256  # changed messages re-read to bring a cached room up to date; past that it is dropped
STORED = {
    "_id": 0,
    "id": 1,
    "m": 1,
    "u": 1,
    "t": 1,
    "edited": 1,
    "deleted": 1,
    "reactions": 1,
    "reply": 1,
    "c": 1,
    "bot": 1,
}
REFERENCE = {"_id": 0, "id": 1, "m": 1, "u": 1, "deleted": 1}


class Unchanged(Exception):
    """A change that changes nothing (a retry): the transaction is abandoned, no position is taken."""

    def __init__(self, answer: dict):
        super().__init__("unchanged")
        self.answer = answer  # what the change answers: the same as when it was made


def public_reactions(doc: dict) -> list[dict]:
    return [{"emoji": r["e"], "count": len(r["u"]), "users": r["u"][:USERS_SHOWN]} for r in doc.get("reactions", [])]


def tombstone(doc: dict) -> dict:
    return {"id": doc["id"], "u": doc["u"], "t": iso(doc["t"]), "deleted": True}


def reference(doc: dict | None, message_id: int) -> dict:
    """What a reply shows of the message it answers, as that message is now."""
    if doc is None or doc.get("deleted"):
        return {"id": message_id, "u": doc["u"] if doc else None, "deleted": True}
    return {"id": message_id, "u": doc["u"], "m": doc["m"][:REPLY_SNIPPET]}


GHOST_PREFIX = "gone:"  # the author id of a deleted account's kept messages (never an email: no "@")


def public_message(doc: dict, replied: dict[int, dict] | None = None) -> dict:
    """A stored message as the API shows it now; `replied` holds the messages its reply may name."""
    if doc.get("deleted"):
        return tombstone(doc)
    message = {"id": doc["id"], "m": doc["m"], "u": doc["u"], "t": iso(doc["t"])}
    if "bot" in doc:  # posted by a room webhook: `u` is `hook:<id>`, `name` the hook's
        message.update(bot=True, name=doc["bot"])
    elif doc["u"].startswith(GHOST_PREFIX):  # by an account that was deleted
        message["name"] = DELETED_NAME
    if "edited" in doc:
        message["edited"] = iso(doc["edited"])
    if doc.get("reactions"):
        message["reactions"] = public_reactions(doc)
    if "reply" in doc:
        message["reply_to"] = reference((replied or {}).get(doc["reply"]), doc["reply"])
    return message


def render_messages(db, roomid: str, docs: list[dict], session=None) -> list[dict]:
    """Stored messages as the API shows them now: the messages their replies name come in one query."""
    known = {d["id"]: d for d in docs}
    wanted = sorted({d["reply"] for d in docs if "reply" in d and not d.get("deleted")} - known.keys())
    if wanted:
        for ref in db.messages.find({"room": roomid, "id": {"$in": wanted}}, REFERENCE, session=session):
            known[ref["id"]] = ref
    return [public_message(d, known) for d in docs]


def stored(doc: dict) -> dict:
    """The part of a message document that the cache keeps and the API shows."""
    return {k: v for k, v in doc.items() if k in STORED and k != "_id"}


class Messages:
    def __init__(
        self,
        db,
        activity,
        bus: Bus,
        limiter: Limiter,
        timeline: Timeline,
        attention: Attention,
        views: MemberViews,
        search=None,
        on_message=None,
    ):
        self._attention = attention
        self._views = views
        self._search = search
        self._on_message = on_message  # (roomid, id) after a new message commits: the push nudge
        self._db = db
        self._activity = activity
        self._bus = bus
        self._limiter = limiter
        self._timeline = timeline
        self._room_locks = KeyedLocks()
        self._cache = MessageCache()

    def post(
        self,
        user: str,
        roomid: str,
        text: str,
        cid: str | None = None,
        rate: tuple[int, int] | None = None,
        reply_to: int | None = None,
        bot: str | None = None,
    ) -> tuple[dict, bool]:
        """Store a message; return it and whether it is new (False: the same cid was posted before).

        BadReply when `reply_to` is not a message of this room. `bot` is a webhook's name: it posts as
        `user` (`hook:<id>`) without being a member."""
        if cid is not None:
            first = self._by_cid(user, roomid, cid)
            if first:
                return first, False
        if rate:
            self._limiter.hit(f"messages:{user}", *rate)
        t = now()

        def work(session):
            # The sequence number and the message commit together, so ids become visible in order. The head
            # comes first: a leave or a deletion after this transaction's snapshot moves the same head, so the
            # membership it checks below (from this process's member views at the head's membership number)
            # cannot change under it; a refused post aborts, taking no id.
            head = self._timeline.advance(session, roomid, posted=t)
            if head is None:
                raise RoomGone(roomid)
            if "@" in text:  # the members only when the text may mention someone: not read per post
                room = self._db.rooms.find_one({"_id": roomid}, {"visibility": 1, "members": 1}, session=session)
            else:
                room = self._views.of(user, roomid, head, session)
            if room is None:
                raise RoomGone(roomid)
            if bot is None and user not in room.get("members", ()):
                raise NotMember(roomid) if room.get("visibility", "public") == "public" else RoomGone(roomid)
            if reply_to is not None and not 1 <= reply_to < head["seq"]:
                raise BadReply(reply_to)  # ids are dense and never reused: below seq means it exists
            entry = self._activity.record(user, "message", text, session=session, t=t, nudge=False, entry_id=entry_id)
            doc = {"room": roomid, "id": head["seq"], "ev": head["ev"], "u": user, "m": text, "t": t, "act": entry}
            if cid is not None:
                doc["cid"] = cid
            if bot is not None:
                doc["bot"] = bot
            if reply_to is not None:
                doc["reply"] = reply_to
            mentions = mentioned(text, room.get("members", []), user)
            if mentions:
                doc["mentions"] = mentions
            if self._search is not None:  # the terms commit with the text (bench/search_post.py measures it off)
                doc.update(self._search.fields(text))
            self._db.messages.insert_one(doc, session=session)
            self._attention.mention(session, roomid, doc["id"], mentions, t)
            self._attention.posted(session, roomid, user, doc["id"], t)  # one's own message is read
            return doc, head.get("changed", 0), head.get("push", True)

        # Taken before the room's lock, so it overlaps the post ahead instead of queueing behind it (and a
        # retried transaction keeps it). A post that is then refused leaves a hole, which stats skip after a while.
        entry_id = self._activity.next_id()
        try:
            with self._room_locks.hold(roomid):
                doc, changed, push = atomic(self._db, work)
        except pymongo.errors.DuplicateKeyError:
            first = self._by_cid(user, roomid, cid) if cid is not None else None
            if first is None:
                raise
            return first, False
        self._activity.nudge()  # a Redis write with a worker: after the room's lock, not inside it
        self._cache.put(roomid, [stored(doc)], changed)
        message = render_messages(self._db, roomid, [doc])[0]
        self._bus.publish(roomid, Event("message", message, doc["ev"], str(doc["id"])))
        if self._on_message and push:  # no member has a push subscription: no task (Rooms.note_push)
            self._on_message(roomid, doc["id"])
        return message, True

    def _by_cid(self, user: str, roomid: str, cid: str) -> dict | None:
        doc = self._db.messages.find_one({"room": roomid, "u": user, "cid": cid}, STORED)
        return render_messages(self._db, roomid, [doc])[0] if doc else None

    def edit(self, user: str, roomid: str, message_id: int, text: str) -> dict:
        """Replace the text of the user's own message; the message as it is now.

        RoomGone / NotMember / NoMessage; Forbidden for someone else's message; MessageDeleted."""

        def change(session, room, doc, t):
            if doc["u"] != user:
                raise Forbidden("only its author may edit a message")
            if doc.get("deleted"):
                raise MessageDeleted(message_id)
            if doc["m"] == text:
                raise Unchanged(render_messages(self._db, roomid, [doc], session)[0])
            update = {"m": text, "edited": t, "c": room["changed"]}
            mentions = self._mentions_after_edit(session, roomid, doc, text)
            index = self._search.fields(text) if self._search is not None else {}
            self._db.messages.update_one(
                {"_id": doc["_id"]},
                {"$set": {**update, **index, "mentions": mentions}}
                if mentions
                else {"$set": {**update, **index}, "$unset": {"mentions": ""}},
                session=session,
            )
            if self._search is not None:  # the words only the old text had leave the vocabulary
                self._search.forget(session, set(doc.get("k", ())) - set(index["k"]))
            if "act" in doc:  # the activity log shows the message as it stands
                self._db.activity.update_one({"_id": doc["act"]}, {"$set": {"m": text}}, session=session)
            doc = {**doc, **update}
            message = render_messages(self._db, roomid, [doc], session)[0]
            return doc, message, "edit", message

        return self._change(user, roomid, message_id, change)

    def delete(self, user: str, roomid: str, message_id: int, admin: bool = False) -> dict:
        """Delete a message (its author, the room's owner, or an admin): its tombstone; again: the same tombstone.

        The text leaves the message document and the activity log in the same transaction."""

        def change(session, room, doc, t):
            if user not in (doc["u"], room.get("owner")) and not admin:
                raise Forbidden("only its author, the room's owner or an admin may delete a message")
            if doc.get("deleted"):
                raise Unchanged(tombstone(doc))
            self._db.messages.update_one(
                {"_id": doc["_id"]},
                {
                    "$set": {"deleted": True, "c": room["changed"]},
                    "$unset": {"m": "", "edited": "", "reactions": "", "mentions": "", "k": "", "p": ""},
                },
                session=session,
            )
            # Neither unread nor a mention any more: the room keeps the ids of its deleted messages.
            self._attention.unmention(session, roomid, message_id)
            if self._search is not None:  # out of results with its terms; its words no other message has go too
                self._search.forget(session, set(doc.get("k", ())))
            self._db.rooms.update_one({"_id": roomid}, deleted_update(message_id), session=session)
            if "act" in doc:
                self._db.activity.update_one({"_id": doc["act"]}, {"$set": {"m": ""}}, session=session)
            doc = {k: v for k, v in doc.items() if k not in ("m", "edited", "reactions", "mentions", "k", "p")}
            doc.update(deleted=True, c=room["changed"])
            return doc, tombstone(doc), "delete", tombstone(doc)

        return self._change(user, roomid, message_id, change, admin=admin)

    def react(self, user: str, roomid: str, message_id: int, emoji: str, add: bool, admin: bool = False) -> dict:
        """Add (or take back) the user's reaction; {"id", "reactions"} as they are now, also for a retry.

        MessageDeleted; TooManyReactions for a 21st distinct emoji. `admin`: also in a room the user has left."""

        def change(session, room, doc, t):
            if doc.get("deleted"):
                raise MessageDeleted(message_id)
            reactions = [{"e": r["e"], "u": list(r["u"])} for r in doc.get("reactions", [])]
            entry = next((r for r in reactions if r["e"] == emoji), None)
            same = Unchanged({"id": message_id, "reactions": public_reactions(doc)})
            if add:
                if entry is not None and user in entry["u"]:
                    raise same
                if entry is None:
                    if len(reactions) >= REACTIONS_MAX:
                        raise TooManyReactions(message_id)
                    reactions.append({"e": emoji, "u": [user]})
                else:
                    entry["u"].append(user)
            else:
                if entry is None or user not in entry["u"]:
                    raise same
                entry["u"].remove(user)
                if not entry["u"]:
                    reactions.remove(entry)
            update = {"reactions": reactions, "c": room["changed"]}
            self._db.messages.update_one({"_id": doc["_id"]}, {"$set": update}, session=session)
            doc = {**doc, **update}
            answer = {"id": message_id, "reactions": public_reactions(doc)}
            return doc, answer, "react", {"id": message_id, "emoji": emoji, "added": add, **answer}

        return self._change(user, roomid, message_id, change, admin=admin)

    def _mentions_after_edit(self, session, roomid: str, doc: dict, text: str) -> list[str]:
        """Who an edited message mentions now, recorded again (the room's members are read only when needed)."""
        if "@" not in text and not doc.get("mentions"):
            return []
        members = self._db.rooms.find_one({"_id": roomid}, {"members": 1}, session=session)["members"]
        mentions = mentioned(text, members, doc["u"])
        self._attention.unmention(session, roomid, doc["id"])
        self._attention.mention(session, roomid, doc["id"], mentions, doc["t"])
        return mentions

    def _change(self, user: str, roomid: str, message_id: int, change, admin: bool = False) -> dict:
        """One change to a stored message, as one transaction that takes the room's next position.

        The room's membership read and its head's update come first: the update takes the position and
        `changed`, so concurrent changes to the room queue there (a conflicting transaction is retried
        after the first commits) and `change` reads the message as no one else can change it meanwhile.
        `change(session, room, doc, t)` -> (new doc, answer, event kind, event data), or raises
        Unchanged (a retry: nothing stored, no event) or a domain error (nothing stored)."""
        t = now()

        def work(session):
            room = require_room(self._db, roomid, session, None if admin else user)
            if not admin and "members" not in room:
                raise NotMember(roomid)
            head = self._timeline.advance(session, roomid, changed=True)
            if head is None:
                raise RoomGone(roomid)
            room = {**head, "owner": room.get("owner")}
            doc = self._db.messages.find_one({"room": roomid, "id": message_id}, session=session)
            if doc is None:
                raise NoMessage(message_id)
            doc, answer, kind, data = change(session, room, doc, t)
            event = self._timeline.record(session, roomid, room, kind, user, t, data)
            return doc, answer, event, room["changed"]

        try:
            with self._room_locks.hold(roomid):
                doc, answer, event, changed = atomic(self._db, work)
        except Unchanged as same:
            return same.answer
        self._cache.put(roomid, [stored(doc)], changed)
        self._bus.publish(roomid, event)
        return answer

    def disown(self, user: str, roomid: str, ghost: str) -> None:
        """A deleted account's messages in the room take the author id `ghost`, so whoever registers the email
        again is not their author (cannot edit or delete them, is not shown for them). One transaction: the
        room's `changed` moves and the messages carry it, so every process's cache reads them again."""

        def work(session):
            room = self._timeline.count_change(session, roomid)
            if room is not None:
                self._db.messages.update_many(
                    {"room": roomid, "u": user}, {"$set": {"u": ghost, "c": room["changed"]}}, session=session
                )

        with self._room_locks.hold(roomid):
            atomic(self._db, work)

    def _room_state(self, user: str, roomid: str) -> tuple[int, int] | None:
        """(newest message id, changes so far) for a member, None for anyone else; RoomGone if there is no room.
        One read of the head, and of the room only when this process has no member view at its membership number."""
        head = head_of(self._db, roomid)
        room = self._views.of(user, roomid, head) if head is not None else None
        if not visible(room, user):  # no room, or a private one the user is not in
            raise RoomGone(roomid)
        return (head["seq"], head.get("changed", 0)) if "members" in room else None

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
        state = self._room_state(user, roomid)
        if state is None:
            raise NotMember(roomid)
        last, changed = state
        if around is not None:
            low = max(1, min(around - (limit - 1) // 2, last - limit + 1))
            high = min(last, low + limit - 1)
        elif after is not None:
            low = after + 1
            high = min(last, after + limit, before - 1 if before is not None else last)
        else:
            high = min(last, before - 1) if before is not None else last
            low = max(1, high - limit + 1)
        return render_messages(self._db, roomid, self._stored_between(roomid, low, high, changed))

    def _stored_between(self, roomid: str, low: int, high: int, changed: int) -> list[dict]:
        """Stored messages low <= id <= high as of room state `changed`, oldest first: from the cache,
        or one bounded range on the (room, id) index."""
        if high < low:
            return []
        cached = self._cache.get(roomid, low, high, changed, lambda mark: self._changed_since(roomid, mark))
        if cached is not None:
            return cached
        docs = sorted(
            self._db.messages.find({"room": roomid, "id": {"$gte": low, "$lte": high}}, STORED), key=lambda d: d["id"]
        )
        self._cache.put(roomid, docs, changed)
        return docs

    def _changed_since(self, roomid: str, mark: int) -> list[dict] | None:
        docs = list(self._db.messages.find({"room": roomid, "c": {"$gt": mark}}, STORED).limit(CATCH_UP_MAX + 1))
        return None if len(docs) > CATCH_UP_MAX else docs
