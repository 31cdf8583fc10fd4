"""This process's listeners: one bus subscription hands each key's events (a room's, the feed's, a user's)
to the queues of the listeners of that key."""

import queue
import threading

from store.bus import Bus
from store.timeline import Event

QUEUE_MAX = 1000  # events a listener may fall behind by before it must catch up from the database
MISSED = ("missed", None)


class Listener:
    """One stream's queue of the events of its keys, and whether some may have been missed."""

    def __init__(self, fanout):
        self.keys: set[str] = set()
        self._fanout = fanout
        self._queue = queue.SimpleQueue()  # C-implemented: waking a thousand readers per event is the hot path
        self._behind = False

    def push(self, key: str, event: Event) -> None:
        if self._queue.qsize() < QUEUE_MAX:
            self._queue.put((key, event))
        elif not self._behind:
            self.missed()

    def missed(self) -> None:
        """Events may have been lost upstream: the reader must catch up from the database."""
        self._behind = True
        self._queue.put(MISSED)

    def wait(self, timeout: float) -> tuple[bool, list[tuple[str, Event]]]:
        """(missed, [(key, event)]): everything queued, after waiting up to `timeout` seconds for something."""
        items = []
        try:
            items.append(self._queue.get(timeout=timeout))
            while True:
                items.append(self._queue.get_nowait())
        except queue.Empty:
            pass
        if not any(item is MISSED for item in items):
            return False, items
        self._behind = False
        return True, [item for item in items if item is not MISSED]

    def add(self, key: str) -> None:
        """Hear this key's events too, from now on."""
        self._fanout.add(self, key)

    def discard(self, key: str) -> None:
        self._fanout.discard(self, key)

    def close(self) -> None:
        for key in list(self.keys):
            self._fanout.discard(self, key)
        self._fanout.closed(self)


class Fanout:
    """Listeners by key; subscribes to the bus on the first listener, once per process."""

    def __init__(self, bus: Bus):
        self._bus = bus
        self._lock = threading.Lock()
        self._rooms: dict[str, set[Listener]] = {}  # key -> its listeners
        self._listeners: set[Listener] = set()
        self._subscribed = False

    def listen(self, *keys: str) -> Listener:
        """A new listener for these keys: every event published from now on reaches it, or it is told it missed some."""
        listener = Listener(self)
        with self._lock:
            self._listeners.add(listener)
            if not self._subscribed:
                # Until the subscription confirms, events can be lost: it reports that through _missed.
                self._bus.subscribe(self._deliver, self._missed)
                self._subscribed = True
        for key in keys:
            self.add(listener, key)
        return listener

    def add(self, listener: Listener, key: str) -> None:
        with self._lock:
            self._rooms.setdefault(key, set()).add(listener)
            listener.keys.add(key)

    def discard(self, listener: Listener, key: str) -> None:
        with self._lock:
            listener.keys.discard(key)
            listeners = self._rooms.get(key, set())
            listeners.discard(listener)
            if not listeners:
                self._rooms.pop(key, None)

    def closed(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.discard(listener)

    def count(self) -> int:
        """How many listeners (streams) this process holds."""
        return len(self._listeners)

    def _deliver(self, roomid: str, event: Event) -> None:
        with self._lock:
            listeners = list(self._rooms.get(roomid, ()))
        for listener in listeners:
            listener.push(roomid, event)

    def _missed(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener.missed()
