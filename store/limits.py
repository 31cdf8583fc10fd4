"""Rate limits as fixed-window counters: in Redis when configured, in this process otherwise."""
import math
import threading
import time

from store.errors import RateLimited


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


class RedisLimiter:
    """Counters shared by every process through Redis."""

    def __init__(self, redis, prefix: str = "chat:limit:"):
        self._redis = redis
        self._prefix = prefix

    def check(self, key: str, limit: int) -> None:
        key = self._prefix + key
        count = int(self._redis.get(key) or 0)
        if count >= limit:
            raise RateLimited(max(1, self._redis.ttl(key)))

    def hit(self, key: str, limit: int, window: int) -> None:
        key = self._prefix + key
        pipe = self._redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, window, nx=True)
        pipe.ttl(key)
        count, _, ttl = pipe.execute()
        if count > limit:
            raise RateLimited(max(1, ttl))

    def reset(self, key: str) -> None:
        self._redis.delete(self._prefix + key)
