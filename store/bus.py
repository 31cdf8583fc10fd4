"""Fan-out of room events: every change is published once, from the store, to every web process."""

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

import redis

from store.timeline import Event

log = logging.getLogger(__name__)

CHANNEL = "chat:events"
PING_SECONDS = 5.0  # a quiet subscription pings Redis this often...
SILENCE_SECONDS = 15.0  # ...and counts as lost when nothing, not even a pong, came back for this long
BACKOFF_SECONDS = (0.1, 5.0)  # first and longest pause between reconnection attempts


class Bus(Protocol):
    """Room events from the store to every web process's streams: MemoryBus, or RedisBus with REDIS_URL."""

    def publish(self, roomid: str, event: Event) -> None:
        """Send an event after its change committed; never raises for an unreachable transport."""

    def subscribe(self, on_event: Callable[[str, Event], None], on_missed: Callable[[], None]) -> None:
        """Call on_event(roomid, event) for each event, and on_missed() whenever some may have been lost."""

    def close(self) -> None: ...


class MemoryBus:
    """In-process fan-out for the embedded default (one web process): nothing can be missed."""

    def __init__(self):
        self._lock = threading.Lock()
        self._handlers = []

    def publish(self, roomid: str, event: Event) -> None:
        with self._lock:
            handlers = list(self._handlers)
        for on_event in handlers:
            on_event(roomid, event)

    def subscribe(self, on_event, on_missed) -> None:
        """Call on_event(roomid, event) for every event published from now on."""
        with self._lock:
            self._handlers.append(on_event)

    def close(self) -> None:
        pass


class RedisBus:
    """One Redis channel; each process reads it through ONE subscription, kept by a background thread."""

    def __init__(self, redis):
        self._redis = redis
        self._lock = threading.Lock()
        self._handlers = []
        self._thread = None
        self._stopping = threading.Event()

    def publish(self, roomid: str, event: Event) -> None:
        """Publish; if Redis is away the change is still stored, and listeners catch up from the database."""
        body = {"room": roomid, "event": event.kind, "data": event.data, "ev": event.position, "id": event.token}
        try:
            self._redis.publish(CHANNEL, json.dumps(body))
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            log.warning("event for room %s not published: Redis is unreachable (%s)", roomid, exc)

    def subscribe(self, on_event, on_missed) -> None:
        """Call on_event(roomid, event) for every event received, and on_missed() after each
        (re)subscription: events published while the subscription was away are lost, so read the database."""
        with self._lock:
            self._handlers.append((on_event, on_missed))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="chat-bus", daemon=True)
                self._thread.start()

    def close(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        pause = BACKOFF_SECONDS[0]
        while not self._stopping.is_set():
            pubsub = self._redis.pubsub()
            try:
                pubsub.subscribe(CHANNEL)
                for message in self._messages(pubsub):
                    if message["type"] == "subscribe":
                        pause = BACKOFF_SECONDS[0]
                    self._dispatch(message)
            except (redis.RedisError, OSError) as exc:
                log.warning("event subscription lost (%s); reconnecting in %.1f s", exc, pause)
            except Exception:  # noqa: BLE001 - a bug in a handler must not end the fan-out
                log.exception("event subscription failed; reconnecting in %.1f s", pause)
            finally:
                try:
                    pubsub.close()
                except (redis.RedisError, OSError):
                    pass
            self._stopping.wait(pause)
            pause = min(pause * 2, BACKOFF_SECONDS[1])

    def _messages(self, pubsub):
        """The subscription's messages until stopped; ConnectionError when Redis goes quiet."""
        heard = pinged = time.monotonic()
        while not self._stopping.is_set():
            message = pubsub.get_message(timeout=1.0)
            now = time.monotonic()
            if message is not None:
                heard = now
                yield message
            elif now - heard > SILENCE_SECONDS:
                raise redis.ConnectionError(f"no answer from Redis for {SILENCE_SECONDS:.0f} s")
            elif now - max(heard, pinged) > PING_SECONDS:
                pubsub.ping()
                pinged = now

    def _dispatch(self, message: dict) -> None:
        with self._lock:
            handlers = list(self._handlers)
        if message["type"] == "subscribe":
            for _, on_missed in handlers:
                on_missed()
        elif message["type"] == "message":
            try:
                body = json.loads(message["data"])
                roomid, event = body["room"], Event(body["event"], body["data"], body["ev"], body["id"])
            except (ValueError, KeyError, TypeError):
                log.warning("ignored a malformed room event: %r", message["data"][:200])
                return
            for on_event, _ in handlers:
                on_event(roomid, event)
