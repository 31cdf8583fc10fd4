"""Fan-out of room events: every change is published once, from the store, to every web process."""
import json
import threading

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
        self._redis.publish(CHANNEL, json.dumps({"room": roomid, "event": event, "data": data}))
