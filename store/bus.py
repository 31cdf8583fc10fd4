"""Fan-out of room events: every change is published once, from the store, to every web process."""
import json
import logging
import threading

import redis

log = logging.getLogger(__name__)

CHANNEL = "chat:events"


class MemoryBus:
    """In-process fan-out for the embedded default (one web process)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._handlers = []

    def publish(self, roomid: str, event: str, data: dict) -> None:
        with self._lock:
            handlers = list(self._handlers)
        for handler in handlers:
            handler(roomid, event, data)

    def add_handler(self, handler) -> None:
        with self._lock:
            self._handlers.append(handler)


class RedisBus:
    """Publishes to one Redis channel that each web process subscribes to once."""

    def __init__(self, redis):
        self._redis = redis

    def publish(self, roomid: str, event: str, data: dict) -> None:
        """Publish; if Redis is away the change is still stored, and listeners catch up from the database."""
        try:
            self._redis.publish(CHANNEL, json.dumps({"room": roomid, "event": event, "data": data}))
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            log.warning("event for room %s not published: Redis is unreachable (%s)", roomid, exc)
