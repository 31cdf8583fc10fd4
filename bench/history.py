"""Latency of a conversation page in a small and a large room: the cost must not grow with history.

Usage: .venv/bin/python -m bench.history [--small 1000] [--large 100000] [--runs 200]
Starts its own SecantusDB server; prints p50/p99 per case and the large/small ratio.
"""

import argparse
import itertools
import os
import random
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import webtest

from chat import create_app
from scripts.servers import Mongo
from settings import Settings


def fill(db, roomid: str, count: int) -> None:
    """Insert `count` messages straight into the room (the API path is measured elsewhere)."""
    t = datetime.now(UTC)
    for start in range(1, count + 1, 5000):
        db.messages.insert_many(
            [
                {"room": roomid, "id": i, "u": "bench@example.com", "m": f"message {i}", "t": t}
                for i in range(start, min(count, start + 4999) + 1)
            ]
        )
    db.rooms.update_one({"_id": roomid}, {"$set": {"seq": count}})


def timed(client, urls, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        url = next(urls)
        start = time.perf_counter()
        client.get(url, status=200)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    mongo = Mongo()
    try:
        app = create_app(Settings(mongodb_uri=mongo.uri("bench"), data_dir=Path("/tmp/chat-bench")))
        store = app.config["chat.store"]
        client = webtest.TestApp(app)
        client.post_json("/auth/register", {"username": "bench@example.com", "password": "long enough"}, status=201)
        rows = []
        for size in (args.small, args.large):
            roomid = client.post_json(
                "/v1/room", {"userid": "bench@example.com", "action": "enter", "roomid": None}
            ).json["roomid"]
            fill(store.db, roomid, size)
            # The latest page is what clients open (served from the process's message cache once read);
            # random older pages miss that cache, so they show the database path.
            cases = (
                ("latest page", lambda roomid=roomid: itertools.repeat(f"/v1/logs/{roomid}")),
                (
                    "before= page",
                    lambda roomid=roomid, size=size: (
                        f"/v1/logs/{roomid}?before={random.randint(101, size)}" for _ in itertools.count()
                    ),
                ),
            )
            for name, urls in cases:
                timed(client, urls(), 20)  # warm up
                rows.append((name, size, *timed(client, urls(), args.runs)))
        print(
            f"cores: {os.cpu_count()}; {args.runs} requests per case, 100 messages per page, in-process WSGI;"
            " before= pages at random positions"
        )
        print(f"{'case':<14}{'messages':>10}{'p50 ms':>10}{'p99 ms':>10}")
        for name, size, p50, p99 in rows:
            print(f"{name:<14}{size:>10}{p50:>10.2f}{p99:>10.2f}")
        for name in ("latest page", "before= page"):
            small, large = (r for r in rows if r[0] == name)
            print(f"ratio {name} {args.large}/{args.small}: p50 {large[2] / small[2]:.2f}")
    finally:
        mongo.stop()


if __name__ == "__main__":
    main()
