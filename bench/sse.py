"""A small blocking SSE client for benchmarks and tests: one socket, one thread per stream."""

import json
import socket
import threading
import time


class Stream:
    """Reads `text/event-stream` from GET `path`; records (event, id, data, received_at) tuples."""

    def __init__(self, port: int, path: str, cookie: str, last_event_id: int | None = None, timeout: float = 30.0):
        self.events: list[tuple[str, int | None, dict, float]] = []
        self.status = None
        self.closed = threading.Event()
        self._sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        headers = f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\nCookie: {cookie}\r\n"
        if last_event_id is not None:
            headers += f"Last-Event-ID: {last_event_id}\r\n"
        self._sock.sendall((headers + "\r\n").encode())
        self._file = self._sock.makefile("rb")
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            status_line = self._file.readline().decode()
            self.status = int(status_line.split()[1])
            while self._file.readline() not in (b"\r\n", b"\n", b""):
                pass  # response headers
            event, event_id, data = "message", None, []
            for raw in self._file:  # HTTP/1.0: the body is the bare stream, no chunking
                line = raw.decode().rstrip("\r\n")
                if line == "":
                    if data:
                        self.events.append((event, event_id, json.loads("\n".join(data)), time.monotonic()))
                    event, event_id, data = "message", None, []
                elif line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("id:"):
                    event_id = int(line[3:].strip())
                elif line.startswith("data:"):
                    data.append(line[5:].lstrip(" "))
        except (OSError, ValueError):
            pass
        finally:
            self.closed.set()

    def messages(self) -> list[tuple[int, dict, float]]:
        return [(i, d, t) for e, i, d, t in self.events if e == "message"]

    def close(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
