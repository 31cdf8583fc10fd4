"""What indexing costs a post: Messages.post per second with the search index and without it.

Usage: .venv/bin/python -m bench.search_post [--seconds 10] [--threads 8]
Starts SecantusDB, then posts realistic chat lines (bench/search.py's vocabulary) from several threads
into 20 rooms through the store (the route adds the same constant cost to both), alternating rounds
with and without indexing. The route's own work (session, body, JSON) adds the same cost to both, so
over HTTP the share is smaller than printed here.
"""

import argparse
import random
import statistics
import tempfile
import threading
import time

from bench.search import WORDS, sentence
from scripts.servers import Mongo
from store import Store


def rate(store: Store, rooms: list[str], seconds: float, threads: int) -> float:
    done, stop = [0] * threads, time.monotonic() + seconds

    def work(n: int):
        rng = random.Random(n)
        while time.monotonic() < stop:
            store.messages.post("bench@example.com", rng.choice(rooms), sentence(rng))
            done[n] += 1

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(done) / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cold", action="store_true", help="start with an empty vocabulary")
    args = parser.parse_args()
    mongo = Mongo()
    try:
        with tempfile.TemporaryDirectory():
            store = Store(mongo.uri("bench"))
            store.ensure_indexes()
            rooms = [store.rooms.create("bench@example.com", f"room {n}") for n in range(20)]
            search = store.messages._search
            if not args.cold:
                for low in range(0, len(WORDS), 2000):  # a service that has run a while has its vocabulary
                    search.learn(WORDS[low : low + 2000])  # (in batches a loaded machine answers within the timeout)
            rate(store, rooms, 2, args.threads)  # warm-up
            results = {"without index": [], "with index": []}
            for label, index in [("without index", None), ("with index", search)] * args.rounds:
                store.messages._search = index
                results[label].append(rate(store, rooms, args.seconds, args.threads))
            store.messages._search = search
            off, on = (statistics.mean(results[k]) for k in ("without index", "with index"))
            print(f"threads {args.threads}, {args.rounds} alternating rounds of {args.seconds:.0f} s each")
            for label, mean in (("without index", off), ("with index", on)):
                runs = ", ".join(f"{r:.0f}" for r in results[label])
                print(f"posts/s {label:<14} {mean:6.0f}  (runs {runs})")
            print(f"indexing costs {(1 - on / off) * 100:.0f}% of the post rate")
            store.close()
    finally:
        mongo.stop()


if __name__ == "__main__":
    main()
