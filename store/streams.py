"""Open event streams per user: counted across processes in Redis, or in this process."""

import math
import secrets
import threading
import time
from typing import Protocol

import redis as redis_lib

from store.errors import RateLimited


class StreamSlots(Protocol):
    """Open event streams per user: MemoryStreams, or RedisStreams counted across processes."""

    def open(self, user: str, limit: int, seconds: float) -> str:
        """A slot for a stream that lasts at most `seconds`; RateLimited when the user has `limit` open."""

    def close(self, user: str, token: str) -> None: ...


class MemoryStreams:
    """Open streams in this process's memory (the embedded default: one process)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._open: dict[str, dict[str, float]] = {}  # user -> {stream token: when it ends at the latest}

    def open(self, user: str, limit: int, seconds: float) -> str:
        """Count a new stream that lasts at most `seconds`; RateLimited when the user has `limit` open."""
        now = time.time()
        with self._lock:
            streams = {token: ends for token, ends in self._open.get(user, {}).items() if ends > now}
            if len(streams) >= limit:
                raise RateLimited(max(1, math.ceil(min(streams.values()) - now)))
            token = secrets.token_hex(8)
            streams[token] = now + seconds
            self._open[user] = streams
        return token

    def close(self, user: str, token: str) -> None:
        with self._lock:
            streams = self._open.get(user, {})
            streams.pop(token, None)
            if not streams:
                self._open.pop(user, None)


class RedisStreams:
    """A sorted set per user of stream tokens scored by when each ends at the latest, so the
    streams of a process that died stop counting by themselves."""

    def __init__(self, redis, prefix: str = "chat:streams:"):
        self._redis = redis
        self._prefix = prefix

    def open(self, user: str, limit: int, seconds: float) -> str:
        key, token, now = self._prefix + user, secrets.token_hex(8), time.time()
        pipe = self._redis.pipeline()  # MULTI/EXEC: the count includes every racing open, so none exceeds the limit
        pipe.zremrangebyscore(key, "-inf", now)
        pipe.zadd(key, {token: now + seconds})
        pipe.expire(key, math.ceil(seconds))
        pipe.zcard(key)
        pipe.zrange(key, 0, 0, withscores=True)
        *_, count, oldest = pipe.execute()
        if count > limit:
            self._redis.zrem(key, token)
            raise RateLimited(max(1, math.ceil(oldest[0][1] - now)))
        return token

    def close(self, user: str, token: str) -> None:
        try:
            self._redis.zrem(self._prefix + user, token)
        except redis_lib.RedisError:
            pass  # Redis is away: the entry stops counting when its time is up
