"""Who is online: users with a live event stream on some web process right now.

With Redis, each process keeps, per user with streams open here, an entry `<process id>` in the sorted
set `chat:online:<user>` scored by when it expires, and refreshes it every heartbeat of the streams
(15 s by default); an entry of a process that died (SIGKILL: no clean-up runs) stops counting after three
heartbeats by itself.
Without Redis, this process's own count is the truth (the embedded default is one process).
"""

import logging
import secrets
import threading
import time
from collections import Counter
from typing import Protocol

import redis as redis_lib

log = logging.getLogger(__name__)

TTL_BEATS = 3  # refreshes an entry outlives, so a late one never blinks a user offline


class Presence(Protocol):
    """Counts this process's streams per user and answers who is online anywhere."""

    def opened(self, user: str) -> None: ...

    def closed(self, user: str) -> None: ...

    def online(self, users: list[str]) -> set[str]: ...


class MemoryPresence:
    """Open streams per user in this process."""

    def __init__(self):
        self._lock = threading.Lock()
        self._open: Counter[str] = Counter()

    def opened(self, user: str) -> None:
        with self._lock:
            self._open[user] += 1

    def closed(self, user: str) -> None:
        with self._lock:
            self._open[user] -= 1
            if self._open[user] <= 0:
                del self._open[user]

    def online(self, users: list[str]) -> set[str]:
        with self._lock:
            return {user for user in users if self._open.get(user)}


class RedisPresence(MemoryPresence):
    """This process's counts, mirrored into Redis with expiring scores so every process sees them."""

    def __init__(self, redis, refresh_seconds: float = 15.0, prefix: str = "chat:online:"):
        super().__init__()
        self._redis = redis
        self._refresh_seconds = refresh_seconds
        self._ttl = refresh_seconds * TTL_BEATS
        self._prefix = prefix
        self._process = secrets.token_hex(8)
        self._thread = None
        self._stopping = threading.Event()

    def opened(self, user: str) -> None:
        super().opened(user)
        self._mark([user])
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._refresh, name="chat-presence", daemon=True)
                self._thread.start()

    def closed(self, user: str) -> None:
        super().closed(user)
        if not super().online([user]):
            try:
                self._redis.zrem(self._prefix + user, self._process)
            except redis_lib.RedisError:
                pass  # the entry expires by itself

    def online(self, users: list[str]) -> set[str]:
        t = time.time()
        pipe = self._redis.pipeline(transaction=False)
        for user in users:
            pipe.zcount(self._prefix + user, t, "+inf")
        try:
            counts = pipe.execute()
        except redis_lib.RedisError as exc:
            log.warning("presence unknown: Redis is unreachable (%s)", exc)
            return super().online(users)
        return {user for user, count in zip(users, counts, strict=True) if count}

    def _mark(self, users: list[str]) -> None:
        t = time.time()
        pipe = self._redis.pipeline(transaction=False)
        for user in users:
            key = self._prefix + user
            pipe.zadd(key, {self._process: t + self._ttl})
            pipe.zremrangebyscore(key, "-inf", t)
            pipe.expire(key, int(self._ttl) + 1)
        try:
            pipe.execute()
        except redis_lib.RedisError as exc:
            log.warning("presence not refreshed: Redis is unreachable (%s)", exc)

    def _refresh(self) -> None:
        while not self._stopping.wait(self._refresh_seconds):
            with self._lock:
                users = list(self._open)
            if users:
                self._mark(users)

    def close(self) -> None:
        self._stopping.set()
