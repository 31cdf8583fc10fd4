"""The real GET and POST /v1/logs against their naive ceilings: a bare waitress app making, with raw pymongo,
the round trips those routes would make without caches or merged writes, on the same SecantusDB, in one run.

Usage: .venv/bin/python -m bench.ceiling [--seconds 5] [--connections 16] [--rounds 5] [--before REV]
Starts SecantusDB, redis-server, the service (`python chat.py`, the production shape: Redis on) and the
ceiling app (`waitress-serve --call bench.ceiling:make_app`, the same waitress settings) on free ports;
both share one database, one session and one room of 200 messages. wrk -t1 drives each case in turn,
`--rounds` times over (interleaved, so the machine's drift falls on every case alike); the ratio
real / ceiling is taken within each round, and the median of the rounds' ratios is the figure. Beside it,
the CPU time each request costs (the serving process, SecantusDB and Redis, from /proc): on two shared
cores where everything is CPU-bound, the ratio of those is the throughput ratio that other load blurs.
`--before REV` adds the service as of a git revision (`git archive` into a temporary folder), on the same
database and session, so before and after come from one run too (a revision from before rooms' heads,
935a706, keeps its counters on the room document and cannot share the database with one after).

The ceiling keeps the data model the naive routes were written for, a room document holding its members and
its counters, in a copy of the service's room (its own id and messages), so its posts never take ids from the
service's room and its figures stay comparable with earlier runs.

The ceiling's routes, each a plain function of pymongo calls (every one a round trip):
- `GET /page/<room>`: the session (find_one), membership and the newest id (find_one), the latest 100
  messages (one range on the (room, id) index): the naive GET /v1/logs, 3 round trips.
- `GET /check/<room>`: the session and membership only (2 round trips), answering an empty page: what
  GET /v1/logs cost before this work, when its messages already came from the process's message cache.
- `POST /post/<room>`: the session, then what a post stored before this work, naively: the activity id
  (a counter, outside the transaction), then in one transaction the room's next id, the activity entry, the
  message, the poster's read marker (read, then written), the search vocabulary (outside) and entry, and the
  commit: 10 round trips.
- `POST /seed/<room>`: the seed's post only: session, room counter, activity id, activity entry, message,
  commit (6 round trips).
Posts queue on a lock in the ceiling's process, as the service's posts to one room do: without it, the
conflicting transactions abort and retry after a backoff, and the ceiling would measure that instead.
"""

import argparse
import hashlib
import json
import os
import shutil
import statistics
import tempfile
import threading
from pathlib import Path

from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError

from bench.service import checkout, cpu_seconds, post_script, prepare, start_chat, start_waitress, wrk_run
from scripts.servers import Mongo, Redis
from settings import Settings
from store.db import atomic, connect, database, iso, now
from store.embedded import free_port

URI_VARIABLE = "CEILING_MONGODB_URI"
PAGE = 100


def make_app():
    """The ceiling's WSGI app, on the database named by CEILING_MONGODB_URI (one client per process)."""
    db = database(connect(os.environ[URI_VARIABLE]))
    posting = threading.Lock()  # one room: posts queue in the process, as the service's do, instead of colliding

    def session_user(environ) -> str | None:
        cookie = environ.get("HTTP_COOKIE", "")
        token = cookie.partition("session=")[2].split(";")[0]
        doc = db.sessions.find_one({"_id": hashlib.sha256(token.encode()).hexdigest()}, {"u": 1, "expires": 1})
        return doc["u"] if doc and doc["expires"] > now() else None

    def member_state(user: str, roomid: str) -> dict | None:
        room = db.rooms.find_one({"_id": roomid}, {"seq": 1, "members": {"$elemMatch": {"$eq": user}}})
        return room if room and "members" in room else None

    def page(user: str, roomid: str, read: bool) -> tuple[int, dict]:
        room = member_state(user, roomid)
        if room is None:
            return 403, {"logs": []}
        if not read:
            return 200, {"logs": []}
        high = room["seq"]
        docs = db.messages.find({"room": roomid, "id": {"$gte": high - PAGE + 1, "$lte": high}}, {"_id": 0})
        logs = [
            {"id": d["id"], "m": d["m"], "u": d["u"], "t": iso(d["t"])} for d in sorted(docs, key=lambda d: d["id"])
        ]
        return 200, {"logs": logs}

    def post(user: str, roomid: str, text: str, everything: bool) -> tuple[int, dict]:
        t = now()
        words = sorted(set(text.lower().split()))

        def work(session):
            room = db.rooms.find_one_and_update(
                {"_id": roomid, "members": user},
                {"$inc": {"seq": 1, "ev": 1}, "$set": {"active": t, "posted": t}},
                projection={"seq": 1, "ev": 1},
                return_document=ReturnDocument.AFTER,
                session=session,
            )
            if room is None:
                return None
            entry = db.counters.find_one_and_update(
                {"_id": "activity"}, {"$inc": {"n": 1}}, upsert=True, return_document=ReturnDocument.AFTER
            )["n"]
            db.activity.insert_one({"_id": entry, "u": user, "act": "message", "m": text, "t": t}, session=session)
            doc = {"room": roomid, "id": room["seq"], "ev": room["ev"], "u": user, "m": text, "t": t, "act": entry}
            db.messages.insert_one(doc, session=session)
            if everything:
                key = f"{roomid}|{user}"
                if db.reads.find_one({"_id": key}, session=session) is None:
                    db.reads.insert_one(
                        {"_id": key, "room": roomid, "u": user, "id": doc["id"], "t": t}, session=session
                    )
                else:
                    db.reads.update_one({"_id": key}, {"$set": {"id": doc["id"], "t": t}}, session=session)
                try:
                    db.words.insert_many([{"w": w} for w in words], ordered=False)
                except BulkWriteError:
                    pass  # known words
                terms = {"r": roomid, "i": doc["id"], "s": entry, "u": user, "k": words, "p": [[0]] * len(words)}
                db.terms.insert_one(terms, session=session)
            return doc

        with posting:
            doc = atomic(db, work)
        if doc is None:
            return 403, {"error": "not a member"}
        return 201, {"id": doc["id"], "m": text, "u": user, "t": iso(t)}

    def app(environ, start_response):
        _, route, roomid = (environ["PATH_INFO"].split("/") + ["", ""])[:3]
        user = session_user(environ)
        if user is None:
            status, body = 401, {"error": "log in first"}
        elif environ["REQUEST_METHOD"] == "GET":
            status, body = page(user, roomid, read=route == "page")
        else:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            text = json.loads(environ["wsgi.input"].read(length))["m"].strip()
            status, body = post(user, roomid, text, everything=route == "post")
        data = json.dumps(body).encode()
        start_response(f"{status} X", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    return app


def naive_copy(uri: str, roomid: str) -> str:
    """A copy of the service's room for the ceiling: the room document with its counters on it, and its messages."""
    db = database(connect(uri))
    copy = f"{roomid}-naive"
    head = db.timelines.find_one({"_id": roomid})
    db.rooms.insert_one({**db.rooms.find_one({"_id": roomid}), "_id": copy, "seq": head["seq"], "ev": head["ev"]})
    db.messages.insert_many([{**doc, "room": copy} for doc in db.messages.find({"room": roomid}, {"_id": 0})])
    db.client.close()
    return copy


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--before", metavar="REV", help="also measure the service as of this git revision")
    args = parser.parse_args()
    mongo, redis_server = Mongo(), Redis()
    procs = []
    tmp = Path(tempfile.mkdtemp(prefix="chat-ceiling-"))
    try:
        settings = Settings(mongodb_uri=mongo.uri("bench"), redis_url=redis_server.url, data_dir=tmp)
        chat_port, ceiling_port = free_port(), free_port()
        chat = start_chat(settings, chat_port)
        procs.append(chat)
        env = {URI_VARIABLE: settings.mongodb_uri}
        ceiling = start_waitress(settings, ceiling_port, "--call bench.ceiling:make_app", env)
        procs.append(ceiling)
        cookie, roomid = prepare(chat_port)
        naive = naive_copy(settings.mongodb_uri, roomid)
        script = post_script(tmp)
        real, bare = f"http://127.0.0.1:{chat_port}/v1/logs/{roomid}", f"http://127.0.0.1:{ceiling_port}"
        cases = [
            ("GET /v1/logs (real)", real, None, chat.pid),
            ("ceiling: session + membership + page", f"{bare}/page/{naive}", None, ceiling.pid),
            ("ceiling: session + membership", f"{bare}/check/{naive}", None, ceiling.pid),
            ("POST /v1/logs (real)", real, script, chat.pid),
            ("ceiling: session + today's transaction", f"{bare}/post/{naive}", script, ceiling.pid),
            ("ceiling: session + the seed's transaction", f"{bare}/seed/{naive}", script, ceiling.pid),
        ]
        if args.before:
            before_port = free_port()
            old = start_chat(settings, before_port, checkout(args.before, tmp / "before"))
            procs.append(old)
            older = f"http://127.0.0.1:{before_port}/v1/logs/{roomid}"
            cases += [
                (f"GET /v1/logs ({args.before})", older, None, old.pid),
                (f"POST /v1/logs ({args.before})", older, script, old.pid),
            ]
        servers = [mongo.proc.pid, redis_server.proc.pid]

        def measure(url: str, lua: str | None, serving: int) -> tuple[float, float]:
            """(req/s, CPU ms per request of the serving process, SecantusDB and Redis together)."""
            before = cpu_seconds([serving, *servers])
            rate, answered = wrk_run(url, args.seconds, args.connections, cookie, lua)
            return rate, (cpu_seconds([serving, *servers]) - before) * 1000 / max(answered, 1)

        runs = [[measure(url, lua, pid) for _, url, lua, pid in cases] for _ in range(args.rounds)]
        rounds = [[rate for rate, _ in run] for run in runs]
        cpu = [[ms for _, ms in run] for run in runs]
        print(f"cores: {os.cpu_count()}; wrk -t1 -c{args.connections} -d{args.seconds}s; {args.rounds} rounds")
        print(f"{'case':<44}" + "".join(f"{f'#{i + 1}':>7}" for i in range(args.rounds)) + f"{'median':>9}")
        for i, (name, *_) in enumerate(cases):
            rates = [r[i] for r in rounds]
            print(f"{name:<44}" + "".join(f"{rate:>7.0f}" for rate in rates) + f"{statistics.median(rates):>9.0f}")
        print("CPU ms per request (the serving process, SecantusDB and Redis), median of the rounds:")
        for i, (name, *_) in enumerate(cases):
            print(f"{name:<44}{statistics.median(c[i] for c in cpu):>9.2f}")
        print("ratios, each within its round:")
        pairs = [
            ("GET real / (session + membership + page)", 0, 1),
            ("GET real / (session + membership)", 0, 2),
            ("POST real / (session + today's transaction)", 3, 4),
            ("POST real / (session + the seed's transaction)", 3, 5),
        ]
        if args.before:
            pairs += [
                (f"GET {args.before} / (session + membership)", 6, 2),
                (f"POST {args.before} / (session + today's transaction)", 7, 4),
                (f"GET real / {args.before}", 0, 6),
                (f"POST real / {args.before}", 3, 7),
            ]
        for name, num, den in pairs:
            ratios = [r[num] / r[den] for r in rounds]
            by_cpu = statistics.median(c[den] / c[num] for c in cpu)
            line = "".join(f"{x:>6.2f}" for x in ratios) + f"{statistics.median(ratios):>8.2f}"
            print(f"{name:<50}{line}   by CPU per request: {by_cpu:.2f}")
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        redis_server.stop()
        mongo.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
