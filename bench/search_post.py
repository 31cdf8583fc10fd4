"""What indexing costs a post: Messages.post per second with the search index and without it.

Usage: .venv/bin/python -m bench.search_post [--seconds 10] [--threads 8]
Starts SecantusDB, then posts realistic chat lines (bench/search.py's vocabulary) from several threads
into 20 rooms through the store (the route adds the same constant cost to both), with and without indexing.
"""

import argparse
import random
import tempfile
import threading
import time

from bench.search import sentence
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
    args = parser.parse_args()
    mongo = Mongo()
    try:
        with tempfile.TemporaryDirectory():
            store = Store(mongo.uri("bench"))
            store.ensure_indexes()
            rooms = [store.rooms.create("bench@example.com", f"room {n}") for n in range(20)]
            search = store.messages._search
            rate(store, rooms, 2, args.threads)  # warm-up (and the vocabulary learnt)
            results = {}
            for label, index in (("without index", None), ("with index", search), ("without index", None)):
                store.messages._search = index
                results.setdefault(label, []).append(rate(store, rooms, args.seconds, args.threads))
            store.messages._search = search
            off, on = max(results["without index"]), results["with index"][0]
            print(f"threads {args.threads}, {args.seconds:.0f} s each")
            print(f"posts/s without index {off:8.0f}  (runs {', '.join(f'{r:.0f}' for r in results['without index'])})")
            print(f"posts/s with index    {on:8.0f}  ({(1 - on / off) * 100:.0f}% slower)")
            store.close()
    finally:
        mongo.stop()


if __name__ == "__main__":
    main()
