"""Peak memory of GET /v1/export's document at 1,000 and 100,000 own messages: it must stay flat.

Usage: .venv/bin/python -m bench.export [--small 1000] [--large 100000]
Starts its own SecantusDB server; for each size, a fresh user with that many own messages in one room
(and as many activity entries); the export is consumed chunk by chunk under tracemalloc, as the web
server does. Prints the peak of Python allocations during the export, the bytes and the time.
"""

import argparse
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

from scripts.servers import Mongo
from settings import Settings
from store import Store
from store.db import next_value


def fill(store: Store, user: str, roomid: str, count: int) -> None:
    """`count` own messages and their activity entries, inserted straight into the database."""
    t = datetime.now(UTC)
    first = next_value(store.db, "activity", count) - count + 1
    for start in range(0, count, 1000):  # small batches: each insert well inside the 10 s socket timeout
        ids = range(start + 1, min(count, start + 1000) + 1)
        store.db.activity.insert_many(
            [{"_id": first + i - 1, "u": user, "act": "message", "m": f"message number {i}", "t": t} for i in ids]
        )
        store.db.messages.insert_many(
            [
                {
                    "room": roomid,
                    "id": i,
                    "ev": i + 1,
                    "u": user,
                    "m": f"message number {i}",
                    "t": t,
                    "act": first + i - 1,
                }
                for i in ids
            ]
        )
    store.db.timelines.update_one({"_id": roomid}, {"$set": {"seq": count, "ev": count + 1}})


def measure(store: Store, user: str) -> tuple[int, int, float]:
    tracemalloc.start()
    tracemalloc.reset_peak()
    started, size = time.perf_counter(), 0
    for chunk in store.export.chunks(user):
        size += len(chunk.encode())
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, size, elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=100_000)
    args = parser.parse_args()
    mongo = Mongo()
    try:
        settings = Settings(mongodb_uri=mongo.uri("bench_export"), data_dir=Path(tempfile.mkdtemp()))
        store = Store(settings.mongodb_uri)
        store.ensure_indexes()
        rows = []
        for size in (args.small, args.large):
            user = f"bench{size}@example.com"
            store.users.register(user, "long enough")
            roomid = store.rooms.create(user, f"room of {size}")
            fill(store, user, roomid, size)
            rows.append((size, *measure(store, user)))
        print(f"{'messages':>9} {'peak KiB':>9} {'document MiB':>13} {'seconds':>8}")
        for size, peak, total, elapsed in rows:
            print(f"{size:>9} {peak / 1024:>9.0f} {total / 2**20:>13.1f} {elapsed:>8.1f}")
        print(f"peak ratio large/small: {rows[1][1] / rows[0][1]:.2f}")
        store.close()
    finally:
        mongo.stop()


if __name__ == "__main__":
    main()
