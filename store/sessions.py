"""Server-side sessions: the cookie holds a random token, the database only its SHA-256.

Each session also has a public id (`sid`, random, unrelated to the token) by which its owner can list
and end it. `last_seen` is written at most once a minute per session: one conditional update.
Each process keeps the sessions it read in a SessionCache, which every ending of a session empties on
every process (README, "Speed": why no process can serve an ended session for more than a second).
"""

import hashlib
import json
import logging
import secrets
import threading
import time
from collections import OrderedDict
from datetime import timedelta

import redis as redis_lib

from store.bus import Subscriber
from store.db import atomic, iso, now

log = logging.getLogger(__name__)

SEEN_EVERY = timedelta(seconds=60)
CHANNEL = "chat:sessions"  # {"k": session key} or {"u": user}: drop that session, or all of that user's
CACHE_SIZE = 10_000  # sessions a process keeps, least recently used dropped first
CACHE_SECONDS = 10.0  # and for at most this long: a second line of defence, should a message be lost
TRUST_SECONDS = 1.0  # the cache is used only while the subscription has answered a ping this recently...
PING_SECONDS = 0.25  # ...which it does this often
SILENCE_SECONDS = 5.0  # no answer for this long: the subscription is lost, reconnect
AGENT_MAX = 256
PUBLIC = {"sid": 1, "created": 1, "last_seen": 1, "address": 1, "agent": 1}


def session_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def public_session(doc: dict, current_key: str | None) -> dict:
    return {
        "id": doc["sid"],
        "created": iso(doc["created"]),
        "last_seen": iso(doc.get("last_seen") or doc["created"]),
        "address": doc.get("address", ""),
        "agent": doc.get("agent", ""),
        "current": doc["_id"] == current_key,
    }


class SessionCache:
    """This process's copy of the live sessions it read: {_id, u, expires, last_seen} by key.

    Coherent across processes: every ending of a session, on any process, publishes the key or the user
    on CHANNEL after it commits, and each process drops what it names on receipt. A process trusts its
    cache only while its subscription is confirmed and has answered a ping within TRUST_SECONDS (Redis
    delivers a subscription's messages in order, so a pong means every message published before its ping
    has been handled); otherwise it reads the database. Each (re)subscription and each loss empties it,
    and `epoch` keeps a read that raced a drop from being stored after it. Without Redis (the embedded
    default: one process) the drops are in-process and the cache is always trusted.
    """

    def __init__(self, redis=None, size: int = CACHE_SIZE, seconds: float = CACHE_SECONDS):
        self._redis = redis
        self._size, self._seconds = size, seconds
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[dict, float]] = OrderedDict()  # key -> (session, stored at)
        self._keys_of: dict[str, set[str]] = {}  # user -> keys held
        self._epoch = 0  # bumped by every drop: a read that started before one is not stored
        self._subscriber = None

    def trusted(self) -> bool:
        """Whether the cache may answer now (its subscription starts at the first use)."""
        if self._redis is None:
            return True
        if self._subscriber is None:
            with self._lock:
                if self._subscriber is None:
                    self._subscriber = Subscriber(
                        self._redis,
                        CHANNEL,
                        self._received,
                        on_subscribed=self._clear,
                        on_lost=self._clear,
                        ping_seconds=PING_SECONDS,
                        silence_seconds=SILENCE_SECONDS,
                        steady=True,
                        name="chat-sessions",
                    )
                    self._subscriber.start()
        return self._subscriber.heard_within(TRUST_SECONDS)

    def get(self, key: str) -> dict | None:
        """The cached session, or None (not held, too old, or the cache is not trusted now)."""
        if not self.trusted():
            return None
        with self._lock:
            found = self._entries.get(key)
            if found is None or time.monotonic() - found[1] > self._seconds:
                return None
            self._entries.move_to_end(key)
            return found[0]

    def epoch(self) -> int:
        """Take before reading a session from the database; give it to put()."""
        return self._epoch

    def put(self, doc: dict, epoch: int) -> None:
        """Keep a session read from the database, unless something was dropped since the read began."""
        if not self.trusted():
            return
        with self._lock:
            if epoch != self._epoch:
                return
            self._entries[doc["_id"]] = (doc, time.monotonic())
            self._entries.move_to_end(doc["_id"])
            self._keys_of.setdefault(doc["u"], set()).add(doc["_id"])
            while len(self._entries) > self._size:
                self._remove(next(iter(self._entries)))

    def forget(self, key: str | None = None, user: str | None = None) -> None:
        """After a session (`key`) or every session of `user` ended: drop it here, then on every process."""
        self._drop(key, user)
        if self._redis is not None:
            try:
                self._redis.publish(CHANNEL, json.dumps({"k": key} if key else {"u": user}))
            except (redis_lib.exceptions.ConnectionError, redis_lib.exceptions.TimeoutError) as exc:
                # The other processes' subscriptions most likely lost Redis too (then they read the
                # database); should they not have, CACHE_SECONDS bounds what they keep.
                log.warning("session change not published: Redis is unreachable (%s)", exc)

    def _received(self, data: bytes) -> None:
        try:
            body = json.loads(data)
            self._drop(body.get("k"), body.get("u"))
        except (ValueError, AttributeError):
            log.warning("ignored a malformed session message: %r", data[:200])
            self._clear()

    def _drop(self, key: str | None, user: str | None) -> None:
        with self._lock:
            self._epoch += 1
            if key in self._entries:
                self._remove(key)
            for held in list(self._keys_of.get(user, ())) if user else ():
                self._remove(held)

    def _remove(self, key: str) -> None:
        doc, _ = self._entries.pop(key)
        keys = self._keys_of.get(doc["u"], set())
        keys.discard(key)
        if not keys:
            self._keys_of.pop(doc["u"], None)

    def _clear(self) -> None:
        with self._lock:
            self._epoch += 1
            self._entries.clear()
            self._keys_of.clear()

    def close(self) -> None:
        if self._subscriber is not None:
            self._subscriber.close()


class Sessions:
    def __init__(self, db, activity, days: int, cache: SessionCache | None = None):
        self._db = db
        self._activity = activity
        self._lifetime = timedelta(days=days)
        self._cache = cache or SessionCache()

    def open(self, user: str, address: str = "", agent: str = "") -> str:
        """Start a fresh session for a user who just proved who they are; return its token."""
        token = secrets.token_urlsafe(32)
        t = now()
        doc = {
            "_id": session_key(token),
            "sid": secrets.token_urlsafe(12),
            "u": user,
            "created": t,
            "last_seen": t,
            "expires": t + self._lifetime,
            "address": address[:64],
            "agent": agent[:AGENT_MAX],
        }

        def work(session):
            self._db.sessions.insert_one(doc, session=session)
            self._activity.record(user, "login", session=session, t=t)

        atomic(self._db, work)
        return token

    def user(self, token: str) -> str | None:
        """The user a token belongs to, or None for an unknown or expired one."""
        doc = self.lookup(token)
        return doc["u"] if doc else None

    def lookup(self, token: str) -> dict | None:
        """The live session {_id, u} of a token, or None; notes `last_seen` when over a minute old."""
        key = session_key(token)
        doc = self._cache.get(key)
        if doc is None:
            epoch = self._cache.epoch()
            doc = self._db.sessions.find_one({"_id": key}, {"u": 1, "expires": 1, "last_seen": 1})
            if doc is not None:
                self._cache.put(doc, epoch)
        t = now()
        if not doc or doc["expires"] <= t:
            return None
        if doc.get("last_seen") is None or doc["last_seen"] < t - SEEN_EVERY:
            # Conditional: of several processes seeing it at once, at most one writes. No top-level `$or`: with
            # one, SecantusDB's write path scans the whole collection (5,000 sessions: over 10 s under load).
            self._db.sessions.update_one(
                {"_id": doc["_id"], "last_seen": {"$not": {"$gte": t - SEEN_EVERY}}},
                {"$set": {"last_seen": t}},
            )
            doc["last_seen"] = t  # the cached copy too: this process asks again a minute from now
        return {"_id": doc["_id"], "u": doc["u"]}

    def close(self, token: str) -> None:
        """Destroy the session (if any) so the token is useless from now on, on every process."""

        def work(session):
            doc = self._db.sessions.find_one_and_delete({"_id": session_key(token)}, session=session)
            if doc:
                self._activity.record(doc["u"], "logout", session=session)

        atomic(self._db, work)
        self._cache.forget(key=session_key(token))

    def of(self, user: str, current_key: str | None = None) -> list[dict]:
        """The user's live sessions, oldest first; sessions from before public ids get one now."""
        t = now()
        docs = list(self._db.sessions.find({"u": user, "expires": {"$gt": t}}, PUBLIC))
        for doc in docs:
            if "sid" not in doc:
                doc["sid"] = secrets.token_urlsafe(12)
                found = self._db.sessions.find_one_and_update(
                    {"_id": doc["_id"], "sid": None}, {"$set": {"sid": doc["sid"]}}
                )
                if found is None:  # another process named it first
                    doc["sid"] = self._db.sessions.find_one({"_id": doc["_id"]}, {"sid": 1})["sid"]
        docs.sort(key=lambda d: d["created"])
        return [public_session(d, current_key) for d in docs]

    def end(self, user: str, sid: str) -> bool:
        """End one of the user's sessions by its public id; False when they have no such session."""
        ended = self._db.sessions.delete_one({"u": user, "sid": sid}).deleted_count == 1
        self._cache.forget(user=user)
        return ended

    def end_others(self, user: str, keep_key: str | None = None) -> int:
        """End every session of the user but `keep_key` (all of them when None), on every process; how many ended."""
        query = {"u": user} if keep_key is None else {"u": user, "_id": {"$ne": keep_key}}
        ended = self._db.sessions.delete_many(query).deleted_count
        self._cache.forget(user=user)  # the kept one too: it is simply read again
        return ended
