"""What a user's stream carries beyond the timelines of their rooms, and where such a stream stood.

The feed is one numbered sequence of changes that concern people outside a room: a public room appears
(created, made public, renamed) or goes (made private, deleted), a person's profile changes, an invitation
arrives. Its number is taken inside the change's transaction from one counter, so, like a room's
positions, it is dense and in commit order; these changes are rare, so the counter never contends with
posting. Each stream decides which entries concern its user.

A checkpoint is where a user stream stood: every room's position and the feed's, saved once when a
stream starts (and again when the changes since grow long), so an event id only names a checkpoint
and what moved since. A user's live-only notices (their read markers moved) go to their own channel.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from pymongo import ReturnDocument

from store.db import now
from store.timeline import Event

FEED = "@feed"  # the bus key of the feed; room ids never hold an "@"
CHECKPOINT_DAYS = 7  # a stream can resume this long after it last heard something
# A profile entry's rooms of its person when it changed, which decide whose streams send it (never sent itself):
# a stream then keeps no set of the thousands of people it shares rooms with.
PROFILE_ROOMS = "_rooms"
REUSE_DAYS = 1  # a resumed stream names its checkpoint again while it is younger than this


def user_key(user: str) -> str:
    """The bus key of one user's own notices."""
    return f"@user:{user}"


@dataclass(frozen=True)
class Checkpoint:
    """Where a user stream stood, saved."""

    id: str
    rooms: dict[str, int]  # roomid -> position
    feed: int
    expires: datetime

    def reusable(self) -> bool:
        """Young enough that a resumed stream can name it again instead of saving a new one (each reconnect
        of a long-open page would otherwise write one): it stays resumable for days after the stream ends."""
        return self.expires - now() > timedelta(days=CHECKPOINT_DAYS - REUSE_DAYS)


class Feed:
    def __init__(self, db, bus):
        self._db = db
        self._bus = bus

    def record(self, session, kind: str, data: dict) -> Event:
        """Store an entry at the feed's next number inside the caller's transaction; publish it after commit."""
        counter = self._db.counters.find_one_and_update(
            {"_id": "feed"}, {"$inc": {"n": 1}}, upsert=True, return_document=ReturnDocument.AFTER, session=session
        )
        # Kept twice as long as a checkpoint: a stream that can resume finds every entry after its point.
        expires = now() + timedelta(days=CHECKPOINT_DAYS * 2)
        self._db.feed.insert_one({"n": counter["n"], "kind": kind, "d": data, "expires": expires}, session=session)
        return Event(kind, data, counter["n"], str(counter["n"]))

    def publish(self, event: Event) -> None:
        self._bus.publish(FEED, event)

    def tell(self, user: str, kind: str, data: dict) -> None:
        """A live-only notice to the user's streams (nothing is stored: the page re-reads on reconnect)."""
        self._bus.publish(user_key(user), Event(kind, data, None, None))

    def head(self) -> int:
        """The newest entry's number (0 before the first)."""
        doc = self._db.counters.find_one({"_id": "feed"})
        return doc["n"] if doc else 0

    def between(self, _key: str, low: int, high: int) -> list[Event]:
        """The entries numbered low..high, in order (the shape of Timeline.between, for a stream's Position)."""
        docs = self._db.feed.find({"n": {"$gte": low, "$lte": high}})
        return sorted((Event(d["kind"], d["d"], d["n"], str(d["n"])) for d in docs), key=lambda e: e.position)

    def save_checkpoint(self, user: str, rooms: dict[str, int], feed: int) -> str:
        """Keep a stream's positions; return the checkpoint's id."""
        checkpoint = secrets.token_urlsafe(9)
        expires = now() + timedelta(days=CHECKPOINT_DAYS)
        self._db.checkpoints.insert_one({"_id": checkpoint, "u": user, "r": rooms, "f": feed, "expires": expires})
        return checkpoint

    def checkpoint(self, user: str, checkpoint: str) -> Checkpoint | None:
        """One of the user's checkpoints; None when unknown or expired."""
        doc = self._db.checkpoints.find_one({"_id": checkpoint, "u": user})
        if doc is None or doc["expires"] <= now():
            return None
        return Checkpoint(doc["_id"], doc["r"], doc["f"], doc["expires"])
