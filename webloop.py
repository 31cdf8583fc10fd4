"""waitress's main loop without its cost per open connection (installed by chat.tune_process on Linux).

waitress's loop (wasyncore.poll2) builds a poll set of every connection each time it wakes, asking each its
readable() and writable(); it wakes for every connection that opens, sends a request, finishes or closes.
With 2,500 open event streams that is milliseconds of Python per wake-up: a `GET /healthz` cost the process
6.3 ms of CPU instead of 1.0, and a stream's resume 16 ms, most of it in that loop (bench/stream_start.py).

This loop keeps one epoll set and asks a connection for its interest only when it may have changed: after
its own events were handled here, when a request thread woke the loop for it, and when it is new; the
listening socket and the trigger are asked at every turn, every connection once a second. That covers every
change: a request thread changes what a connection waits for only together with waking the loop, which in
waitress it always does through the channel's `server.pull_trigger()`, and here that marks the channel
first; the main thread changes it only in the handlers of the connection itself, or in waitress's
maintenance (marking connections idle for `channel_timeout` to close, inside the listening socket's
readable()), after which the same turn asks every connection, so none is left half-closed for a client to
send a request into.
"""

import collections
import select
import time

from waitress import wasyncore
from waitress.channel import HTTPChannel

EVERY_SECONDS = 1.0  # every connection is asked again at least this often
IN, OUT = select.POLLIN | select.POLLPRI, select.POLLOUT  # the flags poll2 registers (epoll's are the same bits)


class Loop:
    """The main loop of one waitress socket map."""

    def __init__(self, socket_map: dict):
        self.map = socket_map
        self.changed = collections.deque()  # channels whose interest may have changed (appended from any thread)
        self._epoll = select.epoll()
        self._held: dict[int, tuple[object, int]] = {}  # fd -> (the object registered, its flags)
        self._others: list = []  # what is not a connection (the listening socket, the trigger): asked every turn
        self._handled: list = []  # the objects whose events the last turn handled
        self._everyone_at = 0.0

    def run(self, timeout: float) -> None:
        while self.map:
            self.turn(timeout)

    def turn(self, timeout: float) -> None:
        """One wake-up: bring the epoll set up to date, wait for events (at most `timeout` s), handle them."""
        now = time.monotonic()
        for fd in self._held.keys() - self.map.keys():  # closed (its socket left the map)
            self._forget(fd)
        if now >= self._everyone_at:
            self._everyone_at = now + EVERY_SECONDS
            asked = list(self.map.values())
            self._others = [obj for obj in asked if not isinstance(obj, HTTPChannel)]
        else:
            asked = self._handled  # (and the others, in _maintained)
            while self.changed:
                asked.append(self.changed.popleft())
            if self._maintained():  # it just marked idle connections to close: close them now, not in a second
                asked = list(self.map.values())
        for obj in asked:
            fd = obj._fileno
            if fd is not None and self.map.get(fd) is obj:
                self._ask(fd, obj)
        try:
            events = self._epoll.poll(max(0.0, min(timeout, self._everyone_at - now)))
        except InterruptedError:
            events = []
        self._handled = []
        for fd, flags in events:
            obj = self.map.get(fd)
            if obj is not None:
                self._handled.append(obj)
                wasyncore.readwrite(obj, flags)

    def _maintained(self) -> bool:
        """Whether a server ran its maintenance (it does so in readable(), asked here first)."""
        cleanups = [getattr(obj, "next_channel_cleanup", None) for obj in self._others]
        for obj in self._others:
            if obj._fileno is not None and self.map.get(obj._fileno) is obj:
                self._ask(obj._fileno, obj)
        return cleanups != [getattr(obj, "next_channel_cleanup", None) for obj in self._others]

    def _ask(self, fd: int, obj) -> None:
        """Register what `obj` waits for now, as poll2 would (nothing when it waits for nothing)."""
        flags = (IN if obj.readable() else 0) | (OUT if obj.writable() and not obj.accepting else 0)
        held = self._held.get(fd)
        if held is not None and held[0] is obj and held[1] == flags:
            return
        try:
            if held is not None and held[0] is obj and flags:
                self._epoll.modify(fd, flags)
            else:
                if held is not None:  # waits for nothing now, or the fd is another socket's
                    self._forget(fd)
                if flags:
                    self._register(fd, flags)
        except OSError:  # its socket went away meanwhile: the map says so at the next turn
            self._forget(fd)
            return
        if flags:
            self._held[fd] = (obj, flags)

    def _register(self, fd: int, flags: int) -> None:
        try:
            self._epoll.register(fd, flags)
        except FileExistsError:  # registered, and not by us: take it over
            self._epoll.modify(fd, flags)

    def _forget(self, fd: int) -> None:
        self._held.pop(fd, None)
        try:
            self._epoll.unregister(fd)
        except OSError:
            pass  # closed already: the kernel dropped it from the set


_loops: dict[int, Loop] = {}


def loop_for(socket_map: dict) -> Loop:
    """The loop of a socket map (one per server)."""
    loop = _loops.get(id(socket_map))
    if loop is None or loop.map is not socket_map:
        loop = _loops[id(socket_map)] = Loop(socket_map)
    return loop


class Waking:
    """A channel's view of its server: pull_trigger() first tells the loop that this channel changed."""

    def __init__(self, server, channel, loop: Loop):
        self._server, self._channel, self._loop = server, channel, loop

    def pull_trigger(self) -> None:
        self._loop.changed.append(self._channel)
        self._server.pull_trigger()

    def __getattr__(self, name):
        return getattr(self._server, name)


class Channel(HTTPChannel):
    """waitress's HTTP connection, marking itself for the loop when new and whenever it wakes the loop."""

    def __init__(self, server, sock, addr, adj, map=None):  # noqa: A002 - waitress's own signature
        super().__init__(server, sock, addr, adj, map=map)
        loop = loop_for(map)
        self.server = Waking(server, self, loop)
        loop.changed.append(self)


class Dispatch:
    """What a waitress server calls as `self.asyncore`: wasyncore, with this loop."""

    dispatcher = wasyncore.dispatcher

    @staticmethod
    def loop(timeout=30.0, use_poll=False, map=None, count=None):  # noqa: A002, ARG004 - wasyncore.loop's signature
        loop_for(map).run(timeout)


def install() -> bool:
    """Serve every waitress server of this process with this loop; False where there is no epoll."""
    if not hasattr(select, "epoll"):
        return False
    from waitress import server

    for cls in (server.BaseWSGIServer, server.MultiSocketServer):
        cls.asyncore = Dispatch
    server.BaseWSGIServer.channel_class = Channel
    return True
