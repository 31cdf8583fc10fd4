"""What a user stream's start costs: fresh starts and resumes of GET /v1/events, as many as a few clients can
make, on one web process with thousands of other streams open (as issue 18's 5,000 listeners).

Usage: .venv/bin/python -m bench.stream_start [--users 5000] [--rooms 100] [--per-user 10] [--open 2500]
       [--starts 1000] [--clients 8]
Per kind of start: starts per second, the CPU of the web process and of the database per start (ms), and the
latency p50/p99. A resume comes back with the id its fresh start ended on (nothing moved since: what a page
reconnecting after STREAM_MAX_SECONDS costs); the baseline is `GET /healthz` (Mongo and Redis) measured the
same way in the same run, so the ratio says how many ordinary requests one start is worth.
"""

import argparse
import signal
import socket
import threading
import time
from pathlib import Path

from bench.fanout import Listener, percentile, read_all, start_web
from bench.user_fanout import cpu_seconds, populate, profile_summary, start_profile
from chat import raise_open_files_limit
from scripts.servers import Mongo, Redis
from store import Store


def start(port: int, cookie: str, last_id: str | None = None, path: str = "/v1/events") -> str | None:
    """One start, read up to its `invitations` frame; the last id it sent."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        resume = f"Last-Event-ID: {last_id}\r\n" if last_id else ""
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: bench\r\nCookie: session={cookie}\r\n{resume}\r\n".encode())
        # A stream is read to the end of its start (`invitations`); another route to the end of its headers.
        end = b"event: invitations" if path == "/v1/events" else b"\r\n\r\n"
        data = b""
        while end not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    ids = [line[4:] for line in data.decode().split("\n") if line.startswith("id: ")]
    return ids[-1] if ids else None


def measure(port: int, pids: list[int], jobs: list, clients: int) -> dict:
    """Run the jobs (callables) from `clients` threads; rate, CPU per job of each pid, latencies."""
    latencies, lock, queue = [], threading.Lock(), list(jobs)

    def client():
        while True:
            with lock:
                if not queue:
                    return
                job = queue.pop()
            began = time.perf_counter()
            job()
            with lock:
                latencies.append((time.perf_counter() - began) * 1000)

    before, wall = [cpu_seconds(pid) for pid in pids], time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - wall
    cpu = [(cpu_seconds(pid) - b) * 1000 / len(jobs) for pid, b in zip(pids, before, strict=True)]
    return {
        "rate": len(jobs) / elapsed,
        "cpu": cpu,
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--rooms", type=int, default=100)
    parser.add_argument("--per-user", type=int, default=10)
    parser.add_argument("--open", type=int, default=2500, help="other streams held open meanwhile")
    parser.add_argument("--starts", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--profile", type=Path, help="where py-spy writes the web process's samples during the resumes")
    args = parser.parse_args()
    raise_open_files_limit(args.open + 1024)
    mongo, redis_server = Mongo(), Redis()
    web = None
    try:
        store = Store(mongo.uri("bench_stream_start"), redis_server.url)
        store.ensure_indexes()
        emails, _, tokens = populate(store, args.users, args.rooms, args.per_user)
        threads = str(args.open + 200)
        limits = {"WEB_THREADS": threads, "WEB_CONNECTION_LIMIT": str(args.open + 600), "STREAM_MAX_SECONDS": "3600"}
        web, port = start_web(mongo.uri("bench_stream_start"), redis_server.url, **limits)
        pids = [web.pid, mongo.proc.pid]
        held = emails[-args.open :] if args.open else []
        opened = []
        for first in range(0, len(held), 100):
            batch = [Listener(port, "/v1/events", tokens[e], b"event: invitations") for e in held[first : first + 100]]
            read_all(batch, lambda batch=batch: all(s.ready for s in batch), 60)
            opened += batch
        users = emails[: args.starts]
        ids = {}
        for email in users[:20]:  # warm-up: connections, the process's first queries
            start(port, tokens[email])
        healthz = measure(port, pids, [lambda: start(port, "", path="/healthz")] * args.starts, args.clients)
        fresh = measure(
            port,
            pids,
            [lambda e=e: ids.__setitem__(e, start(port, tokens[e])) for e in users],
            args.clients,
        )
        spy = start_profile(web.pid, 3600, args.profile) if args.profile else None
        resumed = measure(port, pids, [lambda e=e: start(port, tokens[e], ids[e]) for e in users], args.clients)
        if spy:
            spy.send_signal(signal.SIGINT)  # py-spy writes what it sampled when interrupted
            spy.wait(60)
        for stream in opened:
            stream.sock.close()
    finally:
        if web is not None:
            web.terminate()
            web.wait(20)
        redis_server.stop()
        mongo.stop()
    print(
        f"{args.users} users each in {args.per_user} of {args.rooms} rooms; {args.open} other streams open on the "
        f"one web process; {args.starts} starts of each kind from {args.clients} clients"
    )
    print(f"{'':>10}{'per s':>8}{'web ms':>8}{'db ms':>7}{'p50 ms':>8}{'p99 ms':>8}{'× healthz CPU':>14}")
    base = sum(healthz["cpu"])
    for name, row in (("healthz", healthz), ("fresh", fresh), ("resume", resumed)):
        print(
            f"{name:>10}{row['rate']:>8.1f}{row['cpu'][0]:>8.2f}{row['cpu'][1]:>7.2f}{row['p50']:>8.1f}"
            f"{row['p99']:>8.1f}{sum(row['cpu']) / base:>14.1f}"
        )
    if args.profile and args.profile.exists():
        print(f"profile of the web process during the resumes ({args.profile}):")
        print("\n".join(profile_summary(args.profile, 30)))


if __name__ == "__main__":
    main()
