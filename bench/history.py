"""Latency of a conversation page in a small and a large room: the cost must not grow with history.

The history holds messages that changed: one in five edited, one in five with reactions (three emoji,
twelve users), one in seven a reply. The "changing" case reacts to a message of the latest page before
every request (untimed), so each read first brings this process's cache up to date.

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

USERS = [f"user{i}@example.com" for i in range(12)]


def message(roomid: str, i: int, t, changes: itertools.count) -> dict:
    doc = {"room": roomid, "id": i, "ev": i + 1, "u": "bench@example.com", "m": f"message {i}", "t": t}
    if i % 5 == 0:
        doc.update(m=f"message {i}, edited", edited=t, c=next(changes))
    if i % 5 == 1:
        doc.update(reactions=[{"e": e, "u": USERS} for e in ("👍", "🎉", "❤️")], c=next(changes))
    if i % 7 == 0 and i > 1:
        doc["reply"] = i - 3
    return doc


def fill(db, roomid: str, count: int) -> None:
    """Insert `count` messages straight into the room (the API path is measured elsewhere)."""
    t, changes = datetime.now(UTC), itertools.count(1)
    for start in range(1, count + 1, 5000):
        db.messages.insert_many([message(roomid, i, t, changes) for i in range(start, min(count, start + 4999) + 1)])
    db.timelines.update_one({"_id": roomid}, {"$set": {"seq": count, "ev": count + 1, "changed": next(changes) - 1}})


def timed(client, urls, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        url = next(urls)  # any preparation happens here, untimed
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
            emoji = itertools.cycle("😀😁😂🤣😃")

            def changing(roomid=roomid, size=size, emoji=emoji):
                # A reaction to a message of the latest page (untimed) before each read of it.
                for _ in itertools.count():
                    store.messages.react(
                        "bench@example.com", roomid, random.randint(size - 99, size), next(emoji), True
                    )
                    yield f"/v1/logs/{roomid}"

            cases = (
                ("latest page", lambda roomid=roomid: itertools.repeat(f"/v1/logs/{roomid}")),
                ("changing", changing),
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
            " before= pages at random positions; changing: a reaction on the latest page before each read"
        )
        print(f"{'case':<14}{'messages':>10}{'p50 ms':>10}{'p99 ms':>10}")
        for name, size, p50, p99 in rows:
            print(f"{name:<14}{size:>10}{p50:>10.2f}{p99:>10.2f}")
        for name in ("latest page", "changing", "before= page"):
            small, large = (r for r in rows if r[0] == name)
            print(f"ratio {name} {args.large}/{args.small}: p50 {large[2] / small[2]:.2f}")
    finally:
        mongo.stop()


if __name__ == "__main__":
    main()
