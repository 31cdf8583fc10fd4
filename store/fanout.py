"""This process's listeners: one bus subscription hands each room's events to the queues of its listeners."""

import queue
import threading

from store.bus import Bus
from store.timeline import Event

QUEUE_MAX = 1000  # events a listener may fall behind by before it must catch up from the database
MISSED = ("missed", None)


class Listener:
    """One stream's queue of a room's events, and whether some may have been missed."""

    def __init__(self, fanout, roomid: str):
        self.roomid = roomid
        self._fanout = fanout
        self._queue = queue.SimpleQueue()  # C-implemented: waking a thousand readers per event is the hot path
        self._behind = False

    def push(self, event: Event) -> None:
        if self._queue.qsize() < QUEUE_MAX:
            self._queue.put(event)
        elif not self._behind:
            self.missed()

    def missed(self) -> None:
        """Events may have been lost upstream: the reader must catch up from the database."""
        self._behind = True
        self._queue.put(MISSED)

    def wait(self, timeout: float) -> tuple[bool, list[Event]]:
        """(missed, events): everything queued, after waiting up to `timeout` seconds for something."""
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

    def close(self) -> None:
        self._fanout.remove(self)


class Fanout:
    """Listeners by room; subscribes to the bus on the first listener, once per process."""

    def __init__(self, bus: Bus):
        self._bus = bus
        self._lock = threading.Lock()
        self._rooms: dict[str, set[Listener]] = {}
        self._count = 0
        self._subscribed = False

    def listen(self, roomid: str) -> Listener:
        """A new listener for the room: every event published from now on reaches it, or it is told it missed some."""
        listener = Listener(self, roomid)
        with self._lock:
            self._rooms.setdefault(roomid, set()).add(listener)
            self._count += 1
            if not self._subscribed:
                # Until the subscription confirms, events can be lost: it reports that through _missed.
                self._bus.subscribe(self._deliver, self._missed)
                self._subscribed = True
        return listener

    def remove(self, listener: Listener) -> None:
        with self._lock:
            room = self._rooms.get(listener.roomid, set())
            if listener in room:
                room.discard(listener)
                self._count -= 1
                if not room:
                    del self._rooms[listener.roomid]

    def count(self) -> int:
        """How many listeners this process holds."""
        return self._count

    def _deliver(self, roomid: str, event: Event) -> None:
        with self._lock:
            listeners = list(self._rooms.get(roomid, ()))
        for listener in listeners:
            listener.push(event)

    def _missed(self) -> None:
        with self._lock:
            listeners = [listener for room in self._rooms.values() for listener in room]
        for listener in listeners:
            listener.missed()
