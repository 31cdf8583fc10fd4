"""Uploads waiting for a worker: an image's bytes under its name for a while, in Redis or in this process."""

import threading
from typing import Protocol

# Longer than the broker's visibility timeout (BROKER_VISIBILITY_TIMEOUT, 600 s by default), so a task
# handed out again after its worker died still finds the bytes.
KEEP_SECONDS = 3600


class Uploads(Protocol):
    """An upload's bytes under its name, waiting for a worker: MemoryUploads, or RedisUploads."""

    def put(self, name: str, data: bytes) -> None: ...

    def get(self, name: str) -> bytes | None: ...

    def drop(self, name: str) -> None: ...


class RedisUploads:
    """Shared by every web and worker process through Redis; raw bytes, no encoding."""

    def __init__(self, redis, prefix: str = "chat:upload:"):
        self._redis = redis
        self._prefix = prefix

    def put(self, name: str, data: bytes) -> None:
        self._redis.set(self._prefix + name, data, ex=KEEP_SECONDS)

    def get(self, name: str) -> bytes | None:
        return self._redis.get(self._prefix + name)

    def drop(self, name: str) -> None:
        self._redis.delete(self._prefix + name)


class MemoryUploads:
    """The embedded default: tasks run in this process as soon as they are sent, and drop what they take."""

    def __init__(self):
        self._lock = threading.Lock()
        self._items: dict[str, bytes] = {}

    def put(self, name: str, data: bytes) -> None:
        with self._lock:
            self._items[name] = data

    def get(self, name: str) -> bytes | None:
        with self._lock:
            return self._items.get(name)

    def drop(self, name: str) -> None:
        with self._lock:
            self._items.pop(name, None)
