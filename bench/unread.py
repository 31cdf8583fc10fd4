"""The room listing with unread and mention counts for a user in many rooms: its cost must not grow with history.

Usage: .venv/bin/python -m bench.unread [--rooms 200] [--small 10] [--large 1000] [--runs 100]
Starts its own SecantusDB server. The reader is in `--rooms` rooms, each with `--small` (then `--large`)
messages by someone else; the reader's marker sits 5 messages from the end, and one message in 50
mentions the reader. Prints p50/p99 of GET /v1/room/:userid, the database commands per request
(counted with a pymongo command listener), and the large/small ratio.
"""

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import webtest
from pymongo import monitoring

from chat import create_app
from scripts.servers import Mongo
from settings import Settings

READER, WRITER = "reader@example.com", "writer@example.com"


class Commands(monitoring.CommandListener):
    """Counts the database commands sent while `counting` is on."""

    def __init__(self):
        self.count, self.counting = 0, False

    def started(self, event):
        if self.counting:
            self.count += 1

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


def fill(db, roomids: list[str], size: int) -> None:
    """Bring every room to `size` messages (inserted straight into the database), the marker 5 from the end."""
    start = datetime.now(UTC) - timedelta(days=30)
    at = lambda i: start + timedelta(seconds=i)  # noqa: E731 - message i of a room was posted i seconds in
    t = at(size)
    for roomid in roomids:
        have = db.timelines.find_one({"_id": roomid})["seq"]
        docs = [
            {"room": roomid, "id": i, "ev": 10 + i, "u": WRITER, "m": f"message {i}", "t": at(i)}
            | ({"mentions": [READER]} if i % 50 == 0 else {})
            for i in range(have + 1, size + 1)
        ]
        if docs:
            db.messages.insert_many(docs)
            mentions = [{"u": READER, "room": roomid, "id": d["id"], "t": d["t"]} for d in docs if "mentions" in d]
            if mentions:
                db.mentions.insert_many(mentions)
        db.timelines.update_one({"_id": roomid}, {"$set": {"seq": size, "ev": 10 + size, "posted": t}})
        db.reads.update_one(
            {"_id": f"{roomid}|{READER}"},
            {"$set": {"room": roomid, "u": READER, "id": size - 5, "t": at(size - 5)}},
            upsert=True,
        )


def timed(client, commands: Commands, runs: int) -> tuple[float, float, float]:
    samples, counts = [], []
    for _ in range(runs):
        commands.count, commands.counting = 0, True
        start = time.perf_counter()
        client.get(f"/v1/room/{READER}", status=200)
        samples.append((time.perf_counter() - start) * 1000)
        commands.counting = False
        counts.append(commands.count)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1], statistics.mean(counts)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rooms", type=int, default=200)
    parser.add_argument("--small", type=int, default=10)
    parser.add_argument("--large", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    commands = Commands()
    monitoring.register(commands)
    mongo = Mongo()
    try:
        app = create_app(Settings(mongodb_uri=mongo.uri("bench"), data_dir=Path("/tmp/chat-bench-unread")))
        store = app.config["chat.store"]
        reader, writer = webtest.TestApp(app), webtest.TestApp(app)
        for client, user in ((reader, READER), (writer, WRITER)):
            client.post_json("/auth/register", {"username": user, "password": "long enough"}, status=201)
        roomids = []
        for i in range(args.rooms):
            body = {"userid": WRITER, "action": "enter", "roomid": None, "name": f"room {i}"}
            roomid = writer.post_json("/v1/room", body).json["roomid"]
            reader.post_json("/v1/room", {"userid": READER, "action": "enter", "roomid": roomid})
            roomids.append(roomid)
        rows = []
        for size in (args.small, args.large):
            fill(store.db, roomids, size)
            listing = reader.get(f"/v1/room/{READER}").json["join_rooms"]
            assert len(listing) == args.rooms and all(room["unread"] == 5 for room in listing)
            timed(reader, commands, 10)  # warm up
            rows.append((size, *timed(reader, commands, args.runs)))
        print(f"GET /v1/room/:userid, a reader in {args.rooms} rooms, 5 unread in each, {args.runs} requests per case")
        print("| messages per room | messages in all | p50 ms | p99 ms | database commands per request |")
        print("|---|---|---|---|---|")
        for size, p50, p99, count in rows:
            print(f"| {size:,} | {size * args.rooms:,} | {p50:.2f} | {p99:.2f} | {count:.0f} |")
        print(f"\nratio large/small (p50): {rows[1][1] / rows[0][1]:.2f}")
    finally:
        mongo.stop()


if __name__ == "__main__":
    main()
