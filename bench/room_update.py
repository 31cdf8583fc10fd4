"""What a post's room update costs the database as the room grows: SecantusDB rewrites every index entry of a
document it updates, and a room's `members` index holds one entry per member.

Usage: .venv/bin/python -m bench.room_update [--small 5] [--large 500] [--updates 1000]
The update is the post's (store/messages.py): the room's next id and position, taken by one conditional update
inside a transaction. Prints ms per update for rooms of each size (100 rooms, updated in turn), the time of the
user's rooms read (`Rooms.following`'s query) after them, and the large/small ratio. Starts its own SecantusDB.
"""

import argparse
import time

from pymongo import ReturnDocument

from scripts.servers import Mongo
from store import Store


def measure(store: Store, size: int, updates: int) -> tuple[float, float]:
    """(ms per room update, ms per read of one member's rooms) for 100 rooms of `size` members."""
    db, client = store.db, store.db.client
    db.rooms.delete_many({})
    members = [f"u{i}@example.com" for i in range(size)]
    db.rooms.insert_many([{"_id": f"r{r}", "members": members, "seq": 0, "ev": 0, "active": 0} for r in range(100)])
    began = time.perf_counter()
    for i in range(updates):
        with client.start_session() as session, session.start_transaction():
            db.rooms.find_one_and_update(
                {"_id": f"r{i % 100}", "members": members[0]},
                {"$inc": {"seq": 1, "ev": 1}, "$set": {"active": i}},
                projection={"seq": 1, "ev": 1},
                return_document=ReturnDocument.AFTER,
                session=session,
            )
    update = (time.perf_counter() - began) / updates * 1000
    began = time.perf_counter()
    for _ in range(50):
        list(db.rooms.find({"members": members[-1]}, {"ev": 1, "members": 1}))
    return update, (time.perf_counter() - began) / 50 * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=5)
    parser.add_argument("--large", type=int, default=500)
    parser.add_argument("--updates", type=int, default=1000)
    args = parser.parse_args()
    mongo = Mongo()
    try:
        store = Store(mongo.uri("bench_room_update"), None)
        store.ensure_indexes()
        rows = [(size, *measure(store, size, args.updates)) for size in (args.small, args.large, args.small)]
    finally:
        mongo.stop()
    print(f"{args.updates} updates over 100 rooms per size (the small size again last: the first run warms up)")
    print(f"{'members':>8}{'update ms':>11}{'rooms read ms':>15}")
    for size, update, read in rows:
        print(f"{size:>8}{update:>11.2f}{read:>15.2f}")
    small, large = rows[2], rows[1]
    ratios = f"update {large[1] / small[1]:.1f}, rooms read {large[2] / small[2]:.1f}"
    print(f"ratio {args.large}/{args.small} members: {ratios}")


if __name__ == "__main__":
    main()
