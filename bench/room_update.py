"""What a post's room update costs the database as the room grows: SecantusDB rewrites every index entry of a
document it updates, and a room's `members` index holds one entry per member.

Usage: .venv/bin/python -m bench.room_update [--small 5] [--large 500] [--updates 1000]
Two shapes of a post's first step, each inside a transaction, 100 rooms updated in turn:
- `room`: the counters on the room document (before heads): one conditional update of the room, membership in
  its filter, rewriting the room's `members` index entries.
- `head`: what store/messages.py does now: the room read for membership, then its head (store/timeline.py,
  `Timeline.advance`) takes the next id and position.
Prints ms per update for rooms of each size, the time of a read of one member's rooms (`Rooms.following`'s
query), and the large/small ratios. Starts its own SecantusDB.
"""

import argparse
import time

from pymongo import ReturnDocument

from scripts.servers import Mongo
from store import Store
from store.rooms import member_view
from store.timeline import Timeline


def measure(store: Store, shape: str, size: int, updates: int) -> tuple[float, float]:
    """(ms per post's first step, ms per read of one member's rooms) for 100 rooms of `size` members."""
    db, client = store.db, store.db.client
    db.rooms.delete_many({})
    db.timelines.delete_many({})
    members = [f"u{i}@example.com" for i in range(size)]
    counters = {"seq": 0, "ev": 0, "active": 0} if shape == "room" else {}
    db.rooms.insert_many([{"_id": f"r{r}", "members": members, **counters} for r in range(100)])
    if shape == "head":
        db.timelines.insert_many([{"_id": f"r{r}", "seq": 0, "ev": 0, "changed": 0} for r in range(100)])
    timeline = Timeline(db, None)
    began = time.perf_counter()
    for i in range(updates):
        roomid = f"r{i % 100}"
        with client.start_session() as session, session.start_transaction():
            if shape == "room":
                db.rooms.find_one_and_update(
                    {"_id": roomid, "members": members[0]},
                    {"$inc": {"seq": 1, "ev": 1}, "$set": {"active": i}},
                    projection={"seq": 1, "ev": 1},
                    return_document=ReturnDocument.AFTER,
                    session=session,
                )
            else:
                db.rooms.find_one({"_id": roomid}, {"push": 1, **member_view(members[0])}, session=session)
                timeline.advance(session, roomid, posted=i)
    update = (time.perf_counter() - began) / updates * 1000
    began = time.perf_counter()
    for _ in range(50):
        list(db.rooms.find({"members": members[-1]}, {"members": 1}))
    return update, (time.perf_counter() - began) / 50 * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=5)
    parser.add_argument("--large", type=int, default=500)
    parser.add_argument("--updates", type=int, default=1000)
    args = parser.parse_args()
    mongo = Mongo()
    sizes = (args.small, args.large, args.small)  # the small size again last: the first run warms up
    try:
        store = Store(mongo.uri("bench_room_update"), None)
        store.ensure_indexes()
        rows = [
            (shape, size, *measure(store, shape, size, args.updates)) for shape in ("room", "head") for size in sizes
        ]
    finally:
        mongo.stop()
    print(f"{args.updates} updates over 100 rooms per shape and size")
    print(f"{'shape':>6}{'members':>8}{'update ms':>11}{'rooms read ms':>15}")
    for shape, size, update, read in rows:
        print(f"{shape:>6}{size:>8}{update:>11.2f}{read:>15.2f}")
    for shape in ("room", "head"):
        small, large = [row for row in rows if row[0] == shape][2], [row for row in rows if row[0] == shape][1]
        print(
            f"{shape}: ratio {args.large}/{args.small} members: update {large[2] / small[2]:.1f}, rooms read "
            f"{large[3] / small[3]:.1f}"
        )
    room, head = [row for row in rows if row[1] == args.large]
    print(f"head / room at {args.large} members: update {head[2] / room[2]:.2f}")


if __name__ == "__main__":
    main()
