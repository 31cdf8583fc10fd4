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


class Subscriber:
    """One Redis channel read through ONE subscription, kept by a background thread: it (re)subscribes with
    backoff, pings, and reconnects when Redis goes quiet. The room events and the session cache each use one.

    `on_subscribed()` after each (re)subscription (messages published while it was away are lost),
    `on_message(data)` for each message, `on_lost()` when the subscription ended. With `steady`, it pings every
    `ping_seconds` whatever it hears, so `heard_within()` can say how recent its word is.
    """

    def __init__(
        self,
        redis,
        channel: str,
        on_message: Callable[[bytes], None],
        on_subscribed: Callable[[], None] = lambda: None,
        on_lost: Callable[[], None] = lambda: None,
        ping_seconds: float = PING_SECONDS,
        silence_seconds: float = SILENCE_SECONDS,
        steady: bool = False,
        name: str = "chat-bus",
    ):
        self._redis, self._channel = redis, channel
        self._on_message, self._on_subscribed, self._on_lost = on_message, on_subscribed, on_lost
        self._ping_seconds, self._silence_seconds, self._steady = ping_seconds, silence_seconds, steady
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._subscribed = False
        self._confirmed = None  # monotonic time of the newest ping answered: everything published before it came

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def heard_within(self, seconds: float) -> bool:
        """Subscribed, and every message published more than `seconds` ago has been handled (`steady` only)."""
        confirmed = self._confirmed
        return self._subscribed and confirmed is not None and time.monotonic() - confirmed <= seconds

    def _run(self) -> None:
        pause = BACKOFF_SECONDS[0]
        while not self._stopping.is_set():
            pubsub = self._redis.pubsub()
            try:
                pubsub.subscribe(self._channel)
                for message in self._messages(pubsub):
                    if message["type"] == "subscribe":
                        pause = BACKOFF_SECONDS[0]
                    self._dispatch(message)
            except (redis.RedisError, OSError) as exc:
                log.warning("subscription to %s lost (%s); reconnecting in %.1f s", self._channel, exc, pause)
            except Exception:  # noqa: BLE001 - a bug in a handler must not end the subscription
                log.exception("subscription to %s failed; reconnecting in %.1f s", self._channel, pause)
            finally:
                self._lost()
                try:
                    pubsub.close()
                except (redis.RedisError, OSError):
                    pass
            self._stopping.wait(pause)
            pause = min(pause * 2, BACKOFF_SECONDS[1])

    def _lost(self) -> None:
        self._subscribed, self._confirmed = False, None
        self._on_lost()

    def _messages(self, pubsub):
        """The subscription's messages until stopped; ConnectionError when Redis goes quiet."""
        heard = pinged = time.monotonic()
        while not self._stopping.is_set():
            message = pubsub.get_message(timeout=min(1.0, self._ping_seconds))
            now = time.monotonic()
            if message is not None:
                heard = now
                yield message
            elif now - heard > self._silence_seconds:
                raise redis.ConnectionError(f"no answer from Redis for {self._silence_seconds:.0f} s")
            if now - (pinged if self._steady else max(heard, pinged)) > self._ping_seconds:
                pubsub.ping(repr(now))  # the pong brings the time back: see heard_within
                pinged = now

    def _dispatch(self, message: dict) -> None:
        kind = message["type"]
        if kind == "subscribe":
            # A (re)subscription, perhaps redis-py's own after a dropped connection: what came before is lost.
            self._subscribed, self._confirmed = False, None
            self._on_subscribed()
            self._subscribed = True
        elif kind == "pong" and self._subscribed:
            try:
                self._confirmed = float(message["data"])
            except (TypeError, ValueError):
                pass
        elif kind == "message":
            self._on_message(message["data"])


class RedisBus:
    """One Redis channel; each process reads it through ONE subscription (a Subscriber)."""

    def __init__(self, redis):
        self._redis = redis
        self._lock = threading.Lock()
        self._handlers = []
        self._subscriber = None

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
            if self._subscriber is None:
                self._subscriber = Subscriber(self._redis, CHANNEL, self._received, on_subscribed=self._resubscribed)
                self._subscriber.start()

    def close(self) -> None:
        if self._subscriber is not None:
            self._subscriber.close()

    def _handlers_now(self) -> list:
        with self._lock:
            return list(self._handlers)

    def _resubscribed(self) -> None:
        for _, on_missed in self._handlers_now():
            on_missed()

    def _received(self, data: bytes) -> None:
        try:
            body = json.loads(data)
            roomid, event = body["room"], Event(body["event"], body["data"], body["ev"], body["id"])
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed room event: %r", data[:200])
            return
        for on_event, _ in self._handlers_now():
            on_event(roomid, event)
