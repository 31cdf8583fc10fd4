"""webloop: waitress served by the epoll loop that asks only the connections that may have changed.

A real waitress server in a thread, real sockets: streams held open, a response larger than the socket
buffers to a client that reads late, connections closed and their descriptors reused, an idle connection
closed by waitress's maintenance, and the cost of a wake-up with hundreds of streams open."""

import socket
import threading
import time

import pytest
import waitress

import webloop
from store.embedded import free_port

pytestmark = pytest.mark.skipif(not hasattr(webloop.select, "epoll"), reason="epoll is Linux's")

BIG = 8 * 1024 * 1024  # far more than a socket's buffers: the request thread cannot send it all itself


class App:
    """/stream holds its connection open, sending a line whenever `tick` is set, until the client goes;
    /big answers BIG bytes; anything else answers "ok"."""

    def __init__(self):
        self.tick = threading.Event()
        self.streaming = 0

    def __call__(self, environ, start_response):
        if environ["PATH_INFO"] == "/stream":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return self.stream(environ["waitress.client_disconnected"])
        if environ["PATH_INFO"] == "/big":
            start_response("200 OK", [("Content-Length", str(BIG))])
            return [b"x" * BIG]
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    def stream(self, gone):
        self.streaming += 1
        try:
            yield b"open\n"
            while not gone():
                if self.tick.wait(0.05):
                    self.tick.clear()
                    yield b"tick\n"
        finally:
            self.streaming -= 1


@pytest.fixture
def served(request):
    """(app, port, loop) of a server whose idle connections close after 60 s, or after 1 s with `brief`."""
    idle = 1 if getattr(request, "param", None) == "brief" else 60
    app, port = App(), free_port()
    server = waitress.create_server(
        app,
        host="127.0.0.1",
        port=port,
        threads=400,
        connection_limit=600,
        channel_request_lookahead=1,
        channel_timeout=idle,
        cleanup_interval=1,
    )
    server.asyncore, server.channel_class = webloop.Dispatch, webloop.Channel
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield app, port, webloop.loop_for(server._map)
    server.close()
    thread.join(5)


def request(port: int, path: str, keep_alive: bool = False) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    version = "1.1" if keep_alive else "1.0"
    sock.sendall(f"GET {path} HTTP/{version}\r\nHost: test\r\n\r\n".encode())
    return sock


def read_until(sock: socket.socket, wanted: bytes) -> bytes:
    data = b""
    while wanted not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed before {wanted!r}: {data[-200:]!r}"
        data += chunk
    return data


def read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(1 << 20):
        data += chunk
    return data


def wait_for(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_streams_get_what_request_threads_write_and_end_when_their_client_goes(served):
    app, port, loop = served
    streams = [request(port, "/stream") for _ in range(50)]
    for sock in streams:
        read_until(sock, b"open\n")
    for _ in range(3):
        app.tick.set()
        wait_for(lambda: not app.tick.is_set())
    assert read_until(streams[0], b"tick\n")
    for sock in streams:
        sock.close()
    wait_for(lambda: app.streaming == 0)
    wait_for(lambda: len(loop._held) <= 2)  # the listening socket and the trigger are all that is left


def test_a_response_larger_than_the_socket_buffers_reaches_a_client_that_reads_late(served):
    _, port, _ = served
    sock = request(port, "/big")
    time.sleep(0.5)  # the request thread has queued what it could not send; the loop must send the rest
    body = read_all(sock).split(b"\r\n\r\n", 1)[1]
    assert len(body) == BIG  # (how soon depends on the machine's load: the suite's browsers run beside it)


def test_connections_opened_and_closed_fast_reuse_descriptors_and_all_answer(served):
    _, port, loop = served
    for _ in range(300):
        sock = request(port, "/")
        assert read_all(sock).endswith(b"ok")
        sock.close()
    keep = [request(port, "/", keep_alive=True) for _ in range(20)]
    for sock in keep:
        assert read_until(sock, b"ok")
    for sock in keep:
        sock.sendall(b"GET /again HTTP/1.1\r\nHost: test\r\n\r\n")  # a second request on the same connection
        assert read_until(sock, b"ok")
        sock.close()
    wait_for(lambda: len(loop._held) <= 2)


@pytest.mark.parametrize("served", ["brief"], indirect=True)
def test_an_idle_connection_is_closed_by_waitress_maintenance(served):
    _, port, _ = served
    sock = request(port, "/", keep_alive=True)
    read_until(sock, b"ok")
    began = time.monotonic()
    sock.settimeout(10)
    assert sock.recv(1) == b""  # channel_timeout 1 s, cleanup_interval 1 s: closed without waking the loop
    assert time.monotonic() - began < 5


def test_a_wake_up_asks_only_what_changed_however_many_streams_are_open(served, monkeypatch):
    app, port, loop = served
    streams = [request(port, "/stream") for _ in range(300)]
    for sock in streams:
        read_until(sock, b"open\n")
    asked = []
    ask = loop._ask
    monkeypatch.setattr(loop, "_ask", lambda fd, obj: (asked.append(fd), ask(fd, obj)))
    monkeypatch.setattr(loop, "_everyone_at", time.monotonic() + 3600)  # no once-a-second look meanwhile
    for _ in range(20):
        sock = request(port, "/")
        assert read_all(sock).endswith(b"ok")
        sock.close()
    assert (
        0 < len(asked) < 20 * 20
    )  # a few turns each, asking the socket, the trigger and the connection; poll2: 300+ a turn
    for sock in streams:
        sock.close()
    wait_for(lambda: app.streaming == 0)


def test_a_socket_closed_behind_the_loops_back_does_not_stop_it():
    left, right = socket.socketpair()

    class Gone:
        accepting = False
        _fileno = left.fileno()

        def readable(self):
            return True

        def writable(self):
            return False

    fd = left.fileno()
    loop = webloop.Loop({fd: Gone()})
    left.close()
    right.close()
    loop.turn(0.01)  # registering a closed descriptor fails: forgotten, not raised
    assert fd not in loop._held
