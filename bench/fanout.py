"""Fan-out through one web process: 100, 500 and 1,000 SSE listeners, 50 messages per run.

Usage: .venv/bin/python -m bench.fanout [--listeners 100,500,1000] [--messages 50] [--rate 10]
Starts SecantusDB, redis-server and one web process as the Procfile runs it; opens the listeners as
raw sockets read by one selector loop; posts messages over HTTP at a steady rate. Prints per run:
messages lost and duplicated (must be 0), p50/p99 delivery latency (from just before the POST to
receipt), p50/p99 of an ordinary request (GET /healthz) meanwhile, and the process's memory; ratios
against baselines from the same run: 1 listener (latency) and no open streams (ordinary request).
"""

import argparse
import collections
import json
import os
import secrets
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from chat import raise_open_files_limit
from scripts.servers import ROOT, Mongo, Redis, wait_for_port
from store.embedded import free_port

PASSWORD = "bench password"
USERS = 50
STREAMS_PER_USER = 40  # USERS * STREAMS_PER_USER >= the largest run


CONNECTING: list[float] = []  # seconds each connection took to make (the reading loop waits meanwhile)


class Listener:
    """One raw SSE connection: bytes in, message ids and receipt times out."""

    def __init__(self, port: int, path: str, cookie: str, ready_after: bytes = b"retry:", resume: bool = False):
        self._request = f"GET {path} HTTP/1.0\r\nHost: bench\r\nCookie: session={cookie}\r\n"
        self._port = port
        self.resume = resume  # when the server ends the stream, come back with Last-Event-ID as a browser does
        self.last_id: str | None = None
        self.resumes = 0
        self.connected: list[float] = []  # when each connection (the first, then each resume) was made
        self.ready = False  # the block that shows the stream is set up arrived (a room's: `retry:`)
        self._ready_after = ready_after
        self.received: list[tuple[str | None, int, str, float]] = []  # (roomid on a user stream, id, text, receipt)
        self.connect()

    def connect(self) -> None:
        self.connected.append(time.monotonic())
        self.sock = socket.create_connection(("127.0.0.1", self._port))
        # HTTP/1.0: the server streams the body as is (no chunking) and closes at the end.
        resume = f"Last-Event-ID: {self.last_id}\r\n" if self.last_id else ""
        self.sock.sendall(f"{self._request}{resume}\r\n".encode())
        self.sock.setblocking(False)
        CONNECTING.append(time.monotonic() - self.connected[-1])
        self.buffer = b""
        self.status = None

    def feed(self, now: float) -> bool:
        """Read what is there; False when the server closed the stream."""
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return True
        if not data:
            return False
        self.buffer += data
        if self.status is None and b"\r\n" in self.buffer:
            self.status = int(self.buffer.split(b" ", 2)[1])
        *blocks, self.buffer = self.buffer.split(b"\n\n")
        for block in blocks:
            if self._ready_after in block:
                self.ready = True
            id_line = next((line for line in block.split(b"\n") if line.startswith(b"id: ")), None)
            if id_line:
                self.last_id = id_line[4:].decode()
            data_line = next((line for line in block.split(b"\n") if line.startswith(b"data: ")), None)
            if b"event: message" in block and data_line:
                message = json.loads(data_line[6:])
                self.received.append((message.get("roomid"), message["id"], message["m"], now))
        return True


def read_all(listeners: list[Listener], until, timeout: float) -> None:
    """Feed every listener from one selector loop until until() holds or the time is up."""
    selector = selectors.DefaultSelector()
    for listener in listeners:
        selector.register(listener.sock, selectors.EVENT_READ, listener)
    deadline = time.monotonic() + timeout
    try:
        while not until() and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=0.1):
                listener = key.data
                if not listener.feed(time.monotonic()):
                    selector.unregister(key.fileobj)
                    key.fileobj.close()
                    if listener.resume and listener.status == 200:
                        listener.resumes += 1
                        listener.connect()
                        selector.register(listener.sock, selectors.EVENT_READ, listener)
    finally:
        selector.close()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def ordinary_requests_ms(url: str, until, pause: float = 0.05) -> list[float]:
    """Latencies of an ordinary request (GET /healthz: Mongo and Redis), repeated until until(samples) holds."""
    http, samples = requests.Session(), []
    while not until(samples):
        start = time.perf_counter()
        http.get(url, timeout=10).raise_for_status()
        samples.append((time.perf_counter() - start) * 1000)
        time.sleep(pause)
    return samples


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def run(
    port: int, pid: int, users: list[requests.Session], emails: list[str], count: int, messages: int, rate: float
) -> dict:
    """One run: `count` listeners in a new room, `messages` posted; what arrived, how fast."""
    base = f"http://127.0.0.1:{port}"
    poster = users[0]
    roomid = poster.post(base + "/v1/room", json={"userid": emails[0], "action": "enter", "roomid": None}).json()[
        "roomid"
    ]
    for http, email in zip(users[1:], emails[1:], strict=True):
        http.post(base + "/v1/room", json={"userid": email, "action": "enter", "roomid": roomid}).raise_for_status()
    listeners = [Listener(port, f"/v1/events/{roomid}", users[i % len(users)].cookies["session"]) for i in range(count)]
    read_all(listeners, lambda: all(listener.ready for listener in listeners), 60)
    if not all(listener.ready for listener in listeners):
        statuses = collections.Counter(listener.status for listener in listeners)
        raise SystemExit(f"only {sum(listener.ready for listener in listeners)} of {count} streams opened: {statuses}")
    memory = rss_mib(pid)
    sent: dict[str, float] = {}

    def post_all():
        for i in range(messages):
            text = f"bench {i} {secrets.token_hex(4)}"
            sent[text] = time.monotonic()
            poster.post(f"{base}/v1/logs/{roomid}", json={"m": text}).raise_for_status()
            time.sleep(max(0.0, sent[text] + 1 / rate - time.monotonic()))

    writer = threading.Thread(target=post_all)
    ordinary: list[float] = []
    prober = threading.Thread(
        target=lambda: ordinary.extend(ordinary_requests_ms(f"{base}/healthz", lambda _: not writer.is_alive()))
    )
    writer.start()
    prober.start()
    read_all(listeners, lambda: not writer.is_alive() and all(len(lst.received) >= messages for lst in listeners), 60)
    writer.join()
    prober.join()
    read_all(listeners, lambda: False, 1.0)  # anything extra (a duplicate) would arrive now
    latencies, lost, duplicated = [], 0, 0
    for listener in listeners:
        ids = [message_id for _, message_id, _, _ in listener.received]
        lost += messages - len(set(ids))
        duplicated += len(ids) - len(set(ids))
        latencies += [(at - sent[text]) * 1000 for _, _, text, at in listener.received if text in sent]
        listener.sock.close()
    return {
        "listeners": count,
        "lost": lost,
        "duplicated": duplicated,
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
        "get50": percentile(ordinary, 0.5),
        "get99": percentile(ordinary, 0.99),
        "rss": memory,
    }


def start_web(mongo_uri: str, redis_url: str, **env: str) -> tuple[subprocess.Popen, int]:
    """One web process as the Procfile runs it, with limits a bench needs; (process, port) once it listens."""
    port = free_port()
    env = {
        **os.environ,
        "MONGODB_URI": mongo_uri,
        "REDIS_URL": redis_url,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "DATA_DIR": tempfile.mkdtemp(prefix="chat-fanout-"),
        "STREAMS_PER_USER": str(STREAMS_PER_USER),
        "RATE_REGISTER": "100000/3600",
        "RATE_MESSAGES": "100000/10",
        "MALLOC_ARENA_MAX": "2",  # as the Procfile
        "PYTHONPATH": str(ROOT),
        **env,
    }
    log_path = Path(env["DATA_DIR"]) / "web.log"
    web = subprocess.Popen(
        [sys.executable, "chat.py"], cwd=ROOT, env=env, stdout=log_path.open("ab"), stderr=subprocess.STDOUT
    )
    print(f"server log: {log_path}", file=sys.stderr)
    wait_for_port(port, web, "chat.py")
    return web, port


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--listeners", default="100,500,1000")
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--rate", type=float, default=10.0, help="messages posted per second")
    args = parser.parse_args()
    counts = [int(c) for c in args.listeners.split(",")]
    raise_open_files_limit(max(counts) + 256)
    mongo, redis_server = Mongo(), Redis()
    web, port = start_web(mongo.uri("bench_fanout"), redis_server.url)
    try:
        base = f"http://127.0.0.1:{port}"
        users, emails = [], []
        for i in range(USERS):
            http, email = requests.Session(), f"bench{i}@example.com"
            http.post(base + "/auth/register", json={"username": email, "password": PASSWORD}).raise_for_status()
            users.append(http)
            emails.append(email)
        idle_rss = rss_mib(web.pid)
        idle_get = percentile(ordinary_requests_ms(base + "/healthz", lambda done: len(done) >= 40), 0.5)
        baseline = run(port, web.pid, users, emails, 1, args.messages, args.rate)
        rows = []
        for count in counts:
            time.sleep(2)  # let the previous run's streams notice their clients are gone
            rows.append(run(port, web.pid, users, emails, count, args.messages, args.rate))
    finally:
        web.terminate()
        web.wait(20)
        redis_server.stop()
        mongo.stop()
    print(
        f"cores: {os.cpu_count()}; one web process (python chat.py: waitress, production options); "
        f"{args.messages} messages per run at {args.rate:g}/s; the bench client shares the machine"
    )
    print(
        f"baselines: 1 listener p50 {baseline['p50']:.1f} ms, p99 {baseline['p99']:.1f} ms; "
        f"GET /healthz with no streams p50 {idle_get:.1f} ms; process with no streams {idle_rss:.0f} MiB RSS"
    )
    print(
        f"{'listeners':>9}{'lost':>6}{'dup':>5}{'p50 ms':>8}{'p99 ms':>8}{'p99/1':>7}"
        f"{'GET p50':>9}{'GET p99':>9}{'p50/idle':>9}{'RSS MiB':>9}"
    )
    for row in rows:
        print(
            f"{row['listeners']:>9}{row['lost']:>6}{row['duplicated']:>5}{row['p50']:>8.1f}{row['p99']:>8.1f}"
            f"{row['p99'] / baseline['p99']:>7.1f}{row['get50']:>9.1f}{row['get99']:>9.1f}"
            f"{row['get50'] / idle_get:>9.1f}{row['rss']:>9.0f}"
        )


if __name__ == "__main__":
    main()
