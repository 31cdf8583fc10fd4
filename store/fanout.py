"""This process's listeners: one bus subscription hands each key's events (a room's, the feed's, a user's)
to the queues of the listeners of that key; one check now and then finds a timeline whose publish was lost."""

import logging
import math
import queue
import threading
from collections.abc import Callable

from store.bus import Bus
from store.timeline import Event

CHECK_BEATS = 4  # stream heartbeats between the process's looks for a lost publish
QUEUE_MAX = 1000  # events a listener may fall behind by before it must catch up from the database
MISSED = ("missed", None)

log = logging.getLogger(__name__)


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

    def stands(self, key: str, position: int) -> None:
        """It read, after it began listening to `key`, that the key stands at `position` (see Fanout.stands)."""
        self._fanout.stands(self, key, position)

    def close(self) -> None:
        for key in list(self.keys):
            self._fanout.discard(self, key)
        self._fanout.closed(self)


class Fanout:
    """Listeners by key; subscribes to the bus on the first listener, once per process.

    A publish can be lost without the subscription being lost: the process that committed died before sending
    it, or its send failed. So every `check_seconds` one thread reads where each listened timeline (a room's,
    the feed) stands in the database, in one query per 50 keys for the whole process, and compares it with
    the newest position the bus brought: a key whose position of the previous check has still not been heard
    lost a publish (one in flight for a whole period counts as lost), and its listeners are told they missed
    something, exactly as after a lost subscription, so each reads what it lacks. A room gone from the database
    while still listened to counts the same. Thousands of streams then cost the database nothing while idle.
    The user channels carry live-only notices (nothing to compare): a stream reconciles those at each start.
    """

    def __init__(
        self, bus: Bus, check_seconds: float = 15.0 * CHECK_BEATS, positions: Callable[[list[str]], dict] | None = None
    ):
        """`positions(keys)` -> {key: newest position} of the keys that still exist (store.Store wires it)."""
        self._bus = bus
        self._lock = threading.Lock()
        self._rooms: dict[str, set[Listener]] = {}  # key -> its listeners
        self._listeners: set[Listener] = set()
        self._subscribed = False
        self._check_seconds = check_seconds
        self._positions = positions
        self._heard: dict[str, int] = {}  # listened key -> the newest position the bus brought
        self._seen: dict[str, float] = {}  # listened key -> its position in the database at the last check
        self._stopping = threading.Event()
        self._checker: threading.Thread | None = None

    def listen(self, *keys: str) -> Listener:
        """A new listener for these keys: every event published from now on reaches it, or it is told it missed some."""
        listener = Listener(self)
        with self._lock:
            self._listeners.add(listener)
            if not self._subscribed:
                # Until the subscription confirms, events can be lost: it reports that through _missed.
                self._bus.subscribe(self._deliver, self._missed)
                self._subscribed = True
                if self._positions is not None:
                    self._checker = threading.Thread(target=self._check_loop, name="chat-fanout-check", daemon=True)
                    self._checker.start()
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

    def stands(self, listener: Listener, key: str, position: int) -> None:
        """`listener` read, after it began listening to `key`, that the key stands at `position`: whatever comes
        later must come over the bus (the check's first look at a key otherwise has to take the key as it stands,
        and would miss a publish lost just before).

        What was heard of a key speaks for every listener of it in the process: each has the events up to there,
        or reads the gap below the next one. A read speaks only for its reader: another listener may lack a publish
        lost at or below `position`, and raising what was heard would keep the check from ever telling it. So the
        call counts only from the key's sole listener (not merely its first: one that came since may lack such a
        publish). Listeners that come later lose nothing by it: each reads where the key stands after it begins
        listening, past everything this read found. A key with several listeners before anything was heard of it
        is taken as it stands at the check's first look."""
        with self._lock:
            if self._rooms.get(key) == {listener} and position > self._heard.get(key, -1):
                self._heard[key] = position

    def closed(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.discard(listener)

    def count(self) -> int:
        """How many listeners (streams) this process holds."""
        return len(self._listeners)

    def _deliver(self, roomid: str, event: Event) -> None:
        with self._lock:
            listeners = list(self._rooms.get(roomid, ()))
            if listeners and event.position is not None and event.position > self._heard.get(roomid, -1):
                self._heard[roomid] = event.position
        for listener in listeners:
            listener.push(roomid, event)

    def _check_loop(self) -> None:
        while not self._stopping.wait(self._check_seconds):
            try:
                self.check()
            except Exception as exc:  # noqa: BLE001 - the database is away: the next check asks again
                log.warning("fan-out check skipped: %s", exc)

    def check(self) -> list[str]:
        """One look at the database (see the class): the keys found to have lost a publish."""
        with self._lock:
            keys = [key for key in self._rooms if not key.startswith("@user:")]  # user channels: live only
        stands = self._positions(keys) if keys else {}
        behind = []
        with self._lock:
            for key in keys:
                now = stands.get(key, math.inf)  # gone: nothing more will come for it
                heard = self._heard.setdefault(key, -1 if now == math.inf else now)  # first look: as it stands
                if self._seen.get(key, -1) > heard:  # where it stood a check ago never came
                    behind.append(key)
                    heard = self._heard[key] = max(heard, -1 if now == math.inf else now)
                self._seen[key] = now
            for key in [key for key in self._seen if key not in self._rooms]:  # nobody listens any more
                self._seen.pop(key, None)
                self._heard.pop(key, None)
            listeners = {key: list(self._rooms.get(key, ())) for key in behind}
        for key in behind:
            log.warning("a publish of %s was lost: its %d listeners read what they missed", key, len(listeners[key]))
            for listener in listeners[key]:
                listener.missed()
        return behind

    def close(self) -> None:
        self._stopping.set()

    def _missed(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener.missed()
