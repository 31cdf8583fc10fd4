"""Rate limits as fixed-window counters: in Redis when configured, in this process otherwise."""

import logging
import math
import threading
import time
from contextlib import contextmanager
from typing import Protocol

import redis

from store.errors import RateLimited

log = logging.getLogger(__name__)


class Limiter(Protocol):
    """Fixed-window counters: MemoryLimiter, or RedisLimiter shared by every process."""

    def check(self, key: str, limit: int) -> None:
        """RateLimited if the key has used up its window, without counting."""

    def hit(self, key: str, limit: int, window: int) -> None:
        """Count one use; RateLimited when it goes over the limit."""

    def reset(self, key: str) -> None: ...


class MemoryLimiter:
    """Counters in this process's memory (the embedded default: one process)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, float]] = {}

    def _current(self, key: str) -> tuple[int, float]:
        count, ends = self._windows.get(key, (0, 0.0))
        return (0, 0.0) if ends <= time.monotonic() else (count, ends)

    def check(self, key: str, limit: int) -> None:
        """Raise RateLimited if the key has used up its window, without counting."""
        with self._lock:
            count, ends = self._current(key)
        if count >= limit:
            raise RateLimited(max(1, math.ceil(ends - time.monotonic())))

    def hit(self, key: str, limit: int, window: int) -> None:
        """Count one use; raise RateLimited when it goes over the limit."""
        with self._lock:
            count, ends = self._current(key)
            if not count:
                ends = time.monotonic() + window
            self._windows[key] = (count + 1, ends)
            if len(self._windows) > 100_000:
                self._forget_expired()
        if count + 1 > limit:
            raise RateLimited(max(1, math.ceil(ends - time.monotonic())))

    def reset(self, key: str) -> None:
        with self._lock:
            self._windows.pop(key, None)

    def _forget_expired(self) -> None:
        now = time.monotonic()
        self._windows = {k: v for k, v in self._windows.items() if v[1] > now}


def _seconds_left(pttl: int) -> int:
    """Whole seconds until a key expires, rounded up (Redis' TTL rounds to nearest: a Retry-After too soon)."""
    return max(1, math.ceil(pttl / 1000))


class RedisLimiter:
    """Counters shared by every process through Redis.

    While Redis is unreachable the limits are not enforced (logged once per failure): refusing every
    login and message because the counter store is away would turn a Redis restart into an outage.
    """

    def __init__(self, redis, prefix: str = "chat:limit:"):
        self._redis = redis
        self._prefix = prefix

    def check(self, key: str, limit: int) -> None:
        key = self._prefix + key
        with _unless_redis_is_away():
            pipe = self._redis.pipeline()
            pipe.get(key)
            pipe.pttl(key)
            count, pttl = pipe.execute()
            if int(count or 0) >= limit:
                raise RateLimited(_seconds_left(pttl))

    def hit(self, key: str, limit: int, window: int) -> None:
        key = self._prefix + key
        with _unless_redis_is_away():
            pipe = self._redis.pipeline()
            pipe.incr(key)
            pipe.expire(key, window, nx=True)
            pipe.pttl(key)
            count, _, pttl = pipe.execute()
            if count > limit:
                raise RateLimited(_seconds_left(pttl))

    def reset(self, key: str) -> None:
        with _unless_redis_is_away():
            self._redis.delete(self._prefix + key)


@contextmanager
def _unless_redis_is_away():
    try:
        yield
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
        log.warning("rate limits not enforced: Redis is unreachable (%s)", exc)
