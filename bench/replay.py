"""Replaying missed events: a stream resumed from the start of a room with 1,000 and 10,000 events.

The timeline mixes messages (one in ten a reply), edits, reactions, enters and leaves. The replay is the
stream's own code (routes.sse.Position: bounded pages of positions, each read and sent before the
next), consumed as a client would; time and peak Python memory (tracemalloc) per size, and the ratio.

Usage: .venv/bin/python -m bench.replay [--small 1000] [--large 10000]
Starts its own SecantusDB server.
"""

import argparse
import gc
import os
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

from chat import create_app
from routes.sse import Position, frames
from scripts.servers import Mongo
from settings import Settings
from store.db import iso

USER = "bench@example.com"


def fill(db, roomid: str, events: int) -> None:
    """A room whose timeline holds `events` events: 6 in 10 messages, then edits, reactions, enters, leaves."""
    t = datetime.now(UTC)
    messages, others, seq = [], [], 0
    for position in range(2, events + 2):
        kind = ("message",) * 6 + ("edit", "react", "enter", "leave")
        kind = kind[position % 10]
        if kind == "message" or seq == 0:
            seq += 1
            doc = {"room": roomid, "id": seq, "ev": position, "u": USER, "m": f"message {seq} " + "x" * 80, "t": t}
            if seq % 10 == 0:
                doc["reply"] = seq - 1
            messages.append(doc)
            continue
        data = {"u": USER, "t": iso(t)}
        if kind == "edit":
            data = {"id": seq}
        elif kind == "react":
            data |= {
                "id": seq,
                "emoji": "👍",
                "added": True,
                "reactions": [{"emoji": "👍", "count": 1, "users": [USER]}],
            }
        others.append({"room": roomid, "ev": position, "seq": seq, "kind": kind, "d": data})
    for chunk in range(0, len(messages), 5000):
        db.messages.insert_many(messages[chunk : chunk + 5000])
    for chunk in range(0, len(others), 5000):
        db.events.insert_many(others[chunk : chunk + 5000])
    db.timelines.update_one({"_id": roomid}, {"$set": {"seq": seq, "ev": events + 1}})


def consume(store, roomid: str, last: int) -> tuple[int, int]:
    """Events and bytes sent by a replay of everything after position 0."""
    sent = count = 0
    for chunk in frames(Position(store.timeline, roomid, 0).pages(last)):
        sent += len(chunk.encode())
        count += chunk.count("\n\n")
    return count, sent


def replay(store, roomid: str, last: int) -> tuple[float, int, int, int]:
    """Seconds (untraced), peak traced bytes (a second, traced run), events and bytes sent."""
    gc.collect()
    start = time.perf_counter()
    frames, sent = consume(store, roomid, last)
    seconds = time.perf_counter() - start
    tracemalloc.start()
    consume(store, roomid, last)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, peak, frames, sent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=10_000)
    args = parser.parse_args()
    mongo = Mongo()
    try:
        app = create_app(Settings(mongodb_uri=mongo.uri("bench"), data_dir=Path("/tmp/chat-bench")))
        store = app.config["chat.store"]
        store.users.register(USER, "long enough")
        rows = []
        for size in (args.small, args.large):
            roomid = store.rooms.create(USER, f"replay {size}")
            fill(store.db, roomid, size)
            replay(store, roomid, size + 1)  # warm up
            rows.append((size, *replay(store, roomid, size + 1)))
        print(f"cores: {os.cpu_count()}; replay from the start through routes.sse.Position, pages of positions")
        print(f"{'events':>8}{'sent':>8}{'seconds':>10}{'events/s':>10}{'peak MiB':>10}{'MB sent':>9}")
        for size, seconds, peak, frames, sent in rows:
            print(
                f"{size:>8}{frames:>8}{seconds:>10.2f}{frames / seconds:>10.0f}{peak / 2**20:>10.2f}{sent / 1e6:>9.2f}"
            )
        small, large = rows
        print(
            f"ratio {args.large}/{args.small}: time {large[1] / small[1]:.2f} (events x{args.large / args.small:.0f}),"
            f" peak memory {large[2] / small[2]:.2f}"
        )
        store.close()
    finally:
        mongo.stop()


if __name__ == "__main__":
    main()
