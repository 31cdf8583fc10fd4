"""GET /v1/stats latency with a small and a large activity log, and the aggregation's cost per new entry.

Usage: .venv/bin/python -m bench.stats [--small 1000] [--large 200000] [--runs 200]
Starts its own SecantusDB server; prints p50/p99 per case, the large/small ratio, and the time the
aggregation takes per 10,000 new entries.
"""

import argparse
import os
import statistics
import time
from pathlib import Path

import webtest

from chat import create_app
from scripts.servers import Mongo
from settings import Settings
from store.db import next_value, now

ADMIN, MEMBER, RARE = "admin@example.com", "member@example.com", "rare@example.com"
ACTS = ("message",) * 8 + ("enter", "leave")
# Who wrote each entry, by id % 100: the member one in 10, the rare member one in 100 (so 10 of the
# small log: its page is 10 entries to compare like with like), others the rest.
AUTHORS = [MEMBER] * 10 + [RARE] + [f"user{i}@example.com" for i in range(89)]


def fill(db, count: int) -> None:
    """Add `count` entries straight into the log (the API path is measured elsewhere)."""
    last = next_value(db, "activity", count)
    t = now()
    for start in range(last - count + 1, last + 1, 5000):
        db.activity.insert_many(
            [
                {"_id": i, "u": AUTHORS[i % 100], "act": ACTS[i % 10], "m": f"entry {i}", "t": t}
                for i in range(start, min(last, start + 4999) + 1)
            ]
        )


def timed(client, url: str, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        client.get(url, status=200)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def aggregated(stats) -> float:
    """Seconds one aggregation run takes."""
    start = time.perf_counter()
    assert stats.aggregate() is not None
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    mongo = Mongo()
    try:
        app = create_app(
            Settings(mongodb_uri=mongo.uri("bench"), data_dir=Path("/tmp/chat-bench"), admin_users=frozenset({ADMIN}))
        )
        store = app.config["chat.store"]
        store.activity.on_record = None  # this script runs the aggregation itself, to time it
        clients = {}
        for user in (ADMIN, MEMBER, RARE):
            clients[user] = webtest.TestApp(app)
            clients[user].post_json("/auth/register", {"username": user, "password": "long enough"}, status=201)
        rows, catch_up = [], None
        for size in (args.small, args.large):
            added = size - store.stats.last_id()
            fill(store.db, added)
            seconds = aggregated(store.stats)
            if size == args.large:
                catch_up = (added, seconds)
            for name, user, url in (
                ("admin, latest", ADMIN, "/v1/stats"),
                ("admin, before=", ADMIN, f"/v1/stats?before={size // 2}"),
                ("member, latest", MEMBER, "/v1/stats"),
                ("rare, limit=10", RARE, "/v1/stats?limit=10"),
            ):
                timed(clients[user], url, 20)  # warm up
                rows.append((name, size, *timed(clients[user], url, args.runs)))
        fill(store.db, 10_000)
        per_10k = aggregated(store.stats)
        print(f"cores: {os.cpu_count()}; {args.runs} requests per case, 100 entries per page, in-process WSGI")
        print(f"{'case':<16}{'entries':>10}{'p50 ms':>10}{'p99 ms':>10}")
        for name, size, p50, p99 in rows:
            print(f"{name:<16}{size:>10}{p50:>10.2f}{p99:>10.2f}")
        for name in ("admin, latest", "admin, before=", "member, latest", "rare, limit=10"):
            small, large = (r for r in rows if r[0] == name)
            print(f"ratio {name} {args.large}/{args.small}: p50 {large[2] / small[2]:.2f}")
        print(
            f"aggregation: {per_10k:.2f} s for 10,000 new entries on top of {args.large};"
            f" catching up {catch_up[0]} entries took {catch_up[1]:.1f} s"
            f" ({catch_up[1] / catch_up[0] * 10_000:.2f} s per 10,000)"
        )
    finally:
        mongo.stop()


if __name__ == "__main__":
    main()
