"""Search latency against history size: a user in 20 rooms, 1,000 vs 100,000 messages in all.

Usage: .venv/bin/python -m bench.search [--sizes 1000,100000] [--runs 30]
Fills SecantusDB directly (insert_many of messages with their index fields from store.search.fields, as a
post writes them) with Zipf-distributed words and some CJK lines, then times Store.search.search()
per query case: p50 / p99 per size, and the ratio of the largest size to the smallest. Every size has its own
server, filled before any timing; the sizes then take turns, query by query.
"""

import argparse
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from scripts.servers import Mongo
from store import Store
from store.db import connect, database
from store.search import fields, parse_query

USER = "bench@example.com"
VOCABULARY = 20_000
WORDS = [f"w{n}" for n in range(VOCABULARY)]
# Real words at the ranks a chat corpus puts them, so the cases can name them.
for rank, word in {0: "the", 1: "to", 2: "and", 40: "deploy", 41: "deployment", 42: "deployed", 300: "server"}.items():
    WORDS[rank] = word
WEIGHTS = [1 / (rank + 1) for rank in range(VOCABULARY)]  # Zipf, s = 1
CJK = ["我们明天去北京出差", "東京都庁に行きます", "한국어 텍스트 검색", "服务器部署完成了", "デプロイが終わりました"]
RARE = "zyzzyva"  # placed in exactly 5 messages whatever the size


def sentence(rng: random.Random) -> str:
    if rng.random() < 0.05:
        return rng.choice(CJK)
    return " ".join(rng.choices(WORDS, WEIGHTS, k=rng.randint(3, 15)))


def fill(uri: str, count: int, rooms: list[str]) -> None:
    client = connect(uri, socketTimeoutMS=None)  # a bulk batch on a big collection outlasts the service's 10 s
    db = database(client)
    rng = random.Random(count)
    rare = set(rng.sample(range(count), 5))
    start = datetime.now(UTC) - timedelta(seconds=count)
    seq = dict.fromkeys(rooms, 0)
    for low in range(0, count, 1000):
        messages = []
        for n in range(low, min(count, low + 1000)):
            room = rooms[n % len(rooms)]
            seq[room] += 1
            text = sentence(rng) + (f" {RARE}" if n in rare else "")
            t = start + timedelta(seconds=n)
            doc = {"room": room, "id": seq[room], "ev": seq[room] + 1, "u": USER, "m": text, "t": t, "act": n + 1}
            messages.append({**doc, **fields(text)})
        db.messages.insert_many(messages)
    db.words.insert_many([{"w": w} for w in WORDS + [RARE]])
    db.counters.update_one({"_id": "activity"}, {"$set": {"n": count}}, upsert=True)
    for room in rooms:
        db.timelines.update_one({"_id": room}, {"$set": {"seq": seq[room]}})
    client.close()


CASES = [
    ("1 term, rare", RARE),
    ("1 term, common", "the"),
    ("1 term, mid", "server"),
    ("2 terms, rare + common", f"the {RARE}"),
    ("2 terms, common + common", "the to "),
    ("3 terms", "the and server "),
    ("phrase", '"deploy the"'),
    ("prefix", "deplo"),
    ("CJK", "北京出差"),
]


def measure(setups: dict[int, tuple[Store, list[str]]], runs: int) -> dict[int, dict[str, tuple[float, float, int]]]:
    """p50, p99 and results found per size and case. The sizes take turns query by query, so a machine
    shared with other work slows them alike and the ratio stays fair."""
    out: dict[int, dict] = {size: {} for size in setups}
    for label, q in [("reference: history page", None), *CASES]:
        groups = parse_query(q) if q else None
        times: dict[int, list[float]] = {size: [] for size in setups}
        found = dict.fromkeys(setups, 0)
        for n in range(runs):
            for size, (store, rooms) in setups.items():
                t = time.perf_counter()
                if groups is None:  # what the database costs at this size for a bounded read that is not search
                    results = list(
                        store.db.messages.find({"room": rooms[n % len(rooms)], "id": {"$gte": 10, "$lte": 29}})
                    )
                else:
                    results, _ = store.search.search(USER, groups, limit=20)
                times[size].append((time.perf_counter() - t) * 1000)
                found[size] = len(results)
        for size, measured in times.items():
            measured.sort()
            p99 = measured[min(len(measured) - 1, int(len(measured) * 0.99))]
            out[size][label] = (statistics.median(measured), p99, found[size])
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    servers, setups = [], {}
    try:
        for size in sizes:  # one server per size, all filled first, then measured side by side
            mongo = Mongo()
            servers.append(mongo)
            store = Store(mongo.uri("bench"))
            store.ensure_indexes()
            rooms = [store.rooms.create(USER, f"room {n}") for n in range(20)]
            t = time.perf_counter()
            fill(mongo.uri("bench"), size, rooms)
            print(f"filled {size} messages in {time.perf_counter() - t:.0f} s", flush=True)
            setups[size] = (store, rooms)
        figures = measure(setups, args.runs)
    finally:
        for store, _ in setups.values():
            store.close()
        for mongo in servers:
            mongo.stop()
    small, large = sizes[0], sizes[-1]
    print(f"{'case':<26}" + "".join(f"{f'p50/p99 ms @{s}':>22}" for s in sizes) + f"{'p50 ratio':>11}")
    for label in figures[small]:
        cells = "".join(
            f"{figures[s][label][0]:>9.1f} /{figures[s][label][1]:>6.1f} ({figures[s][label][2]:>2})" for s in sizes
        )
        print(f"{label:<26}{cells}{figures[large][label][0] / figures[small][label][0]:>11.2f}")


if __name__ == "__main__":
    main()
