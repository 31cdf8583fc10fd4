"""Latency of the room listing with few and many other people's private rooms and DMs in the database:
the cost must not grow with rooms the user cannot see.

Usage: .venv/bin/python -m bench.rooms [--few 10] [--many 1000] [--runs 200]
Starts its own SecantusDB server; prints p50/p99 per case and the many/few ratio.
"""

import argparse
import os
import secrets
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import webtest

from chat import create_app
from scripts.servers import Mongo
from settings import Settings

USER = "bench@example.com"
PUBLIC_ROOMS = 50  # public rooms, each with the bench user in half of them


def room(i: int, t: datetime, members: list[str], visibility: str, kind: str) -> dict:
    doc = {
        "_id": secrets.token_urlsafe(9),
        "name": f"room {i}",
        "members": members,
        "n": len(members),
        "created": t,
        "active": t - timedelta(seconds=i),
        "visibility": visibility,
        "kind": kind,
        "owner": members[0],
    }
    if kind == "dm":
        doc["pair"] = sorted(members)
        doc["pairkey"] = "\n".join(doc["pair"])
    return doc


def add_hidden(db, start: int, count: int) -> None:
    """`count` private rooms and DMs of other people, as recently active as the public ones (the worst case)."""
    t = datetime.now(UTC)
    docs = []
    for i in range(start, start + count):
        a, b = f"u{i}a@example.com", f"u{i}b@example.com"
        docs.append(room(i, t, [a, b], "private", "dm" if i % 2 else "room"))
    insert(db, docs)


def insert(db, docs: list[dict]) -> None:
    """Room documents and their heads (store/timeline.py: the head holds `active`)."""
    heads = [
        {"_id": d["_id"], "seq": 0, "ev": d["n"], "changed": 0, "mev": 1, "active": d.pop("active")}
        | {"visibility": d["visibility"]}
        for d in docs
    ]
    db.rooms.insert_many(docs)
    db.timelines.insert_many(heads)


def timed(client, url: str, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        client.get(url, status=200)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--few", type=int, default=10)
    parser.add_argument("--many", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    mongo = Mongo()
    try:
        app = create_app(Settings(mongodb_uri=mongo.uri("bench_rooms"), data_dir=Path("/tmp/chat-bench")))
        store = app.config["chat.store"]
        store.db.rooms.delete_many({})
        store.db.timelines.delete_many({})
        client = webtest.TestApp(app)
        client.post_json("/auth/register", {"username": USER, "password": "long enough"}, status=201)
        t = datetime.now(UTC)
        insert(
            store.db,
            [room(i, t, [USER] if i % 2 else ["other@example.com"], "public", "room") for i in range(PUBLIC_ROOMS)],
        )
        store.db.counters.update_one({"_id": "rooms-epoch"}, {"$min": {"t": t - timedelta(days=1)}}, upsert=True)
        url = f"/v1/room/{USER}"
        rows = []
        add_hidden(store.db, 10_000, args.few)
        for hidden in (args.few, args.many):
            if hidden == args.many:
                add_hidden(store.db, 20_000, args.many - args.few)
            listing = client.get(url).json
            assert len(listing["allrooms"]) == PUBLIC_ROOMS and len(listing["join_rooms"]) == PUBLIC_ROOMS // 2
            timed(client, url, 20)  # warm up
            rows.append((hidden, *timed(client, url, args.runs)))
        print(
            f"cores: {os.cpu_count()}; {args.runs} requests per case, in-process WSGI; {PUBLIC_ROOMS} public rooms,"
            f" the user in {PUBLIC_ROOMS // 2}; others' private rooms and DMs as recent as them"
        )
        print(f"{'hidden rooms':<14}{'p50 ms':>10}{'p99 ms':>10}")
        for hidden, p50, p99 in rows:
            print(f"{hidden:<14}{p50:>10.2f}{p99:>10.2f}")
        print(f"ratio {args.many}/{args.few}: p50 {rows[1][1] / rows[0][1]:.2f}, p99 {rows[1][2] / rows[0][2]:.2f}")
    finally:
        mongo.stop()


if __name__ == "__main__":
    main()
