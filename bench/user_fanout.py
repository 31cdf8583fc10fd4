"""Fan-out of the user stream: 1,000 users with a page open (GET /v1/events), each in 10 of 100 rooms,
messages at 10/s spread over the rooms; on one web process, then on two sharing MongoDB and Redis.

Usage: .venv/bin/python -m bench.user_fanout [--users 1000] [--rooms 100] [--per-user 10] [--messages 200]
       [--processes 1,2] [--threads 1100] [--stream-seconds 300] [--spread SECONDS] [--storage DIR|:memory:]
       [--profile PATH]
Issue 18's figure, 5,000 listeners on two processes: --users 5000 --processes 2 --threads 2700.
The people, rooms and sessions are written straight into the database (registering 1,000 people through
the API would spend minutes in scrypt); everything measured goes through HTTP. Prints per run: deliveries
expected (each message to each member with a stream), lost and duplicated (must be 0), p50/p99 delivery
latency (from just before the POST to receipt), and each web process's memory and CPU while the messages
flow; the baseline is the same room layout with 10 listeners, in the same run. Streams end after
STREAM_MAX_SECONDS and the client resumes them with Last-Event-ID, as a browser does (`resumes`: how many
during the measured run). --profile samples the last run's first process with py-spy (`pip install py-spy`)
while the messages flow, and prints where the time holding the GIL went.
"""

import argparse
import collections
import os
import random
import re
import secrets
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from bench.fanout import CONNECTING, Listener, percentile, read_all, rss_mib, start_web
from chat import raise_open_files_limit
from scripts.servers import Mongo, Redis
from store import Store
from store.db import now
from store.sessions import session_key
from store.users import hash_password

PASSWORD = "bench password"
OPEN_BATCH = int(os.environ.get("OPEN_BATCH", "100"))  # streams opened together, each batch once the last one is in


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def populate(store: Store, users: int, rooms: int, per_user: int) -> tuple[list[str], dict[str, list[str]], dict]:
    """(emails, members by room, session token by email), written directly."""
    t, hashed = now(), hash_password(PASSWORD)
    emails = [f"u{i}@example.com" for i in range(users)]
    store.db.users.insert_many([{"_id": email, "hash": hashed, "created": t} for email in emails])
    tokens = {email: secrets.token_urlsafe(32) for email in emails}
    store.db.sessions.insert_many(
        [
            {
                "_id": session_key(token),
                "sid": secrets.token_urlsafe(12),
                "u": email,
                "created": t,
                "last_seen": t,
                "expires": t.replace(year=t.year + 1),
                "address": "",
                "agent": "bench",
            }
            for email, token in tokens.items()
        ]
    )
    chosen = random.Random(1)
    members: dict[str, list[str]] = {}
    ids = [store.rooms.create(emails[i % users], f"room {i}") for i in range(rooms)]
    for email in emails:
        for roomid in chosen.sample(ids, per_user):
            members.setdefault(roomid, [])
            if email not in members[roomid]:
                members[roomid].append(email)
    for roomid in ids:
        owner = store.db.rooms.find_one({"_id": roomid}, {"members": 1})["members"][0]
        everyone = list(dict.fromkeys([owner, *members.get(roomid, [])]))
        store.db.rooms.update_one({"_id": roomid}, {"$set": {"members": everyone, "n": len(everyone)}})
        members[roomid] = everyone
    return emails, members, tokens


def start_profile(pid: int, seconds: float, path: Path) -> subprocess.Popen | None:
    """py-spy sampling the process while it holds the GIL (what its CPU goes to), without pausing it."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        print("--profile needs py-spy (pip install py-spy)", file=sys.stderr)
        return None
    command = [spy, "record", "--pid", str(pid), "--duration", str(max(1, int(seconds))), "--rate", "40"]
    command += ["--gil", "--nonblocking", "--format", "raw", "--output", str(path)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def profile_summary(path: Path, top: int = 18) -> list[str]:
    """The functions the samples were in: own (the innermost frame) and in all (anywhere on the stack), as shares."""
    own, anywhere, samples = collections.Counter(), collections.Counter(), 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [re.sub(r":[0-9]+\)$", ")", frame) for frame in stack.split(";")[1:]]  # less the thread's name
        if not frames:
            continue
        samples += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            anywhere[frame] += int(count)
    lines = [f"{samples} samples holding the GIL; own share, then share anywhere on the stack"]
    lines += [f"  own {n / samples:6.1%}  {frame}" for frame, n in own.most_common(top)]
    lines += [f"  all {n / samples:6.1%}  {frame}" for frame, n in anywhere.most_common(top)]
    return lines


def run(
    ports, pids, emails, members, tokens, listening: int, messages: int, rate: float, profile=None, db=None, spread=0.0
) -> dict:
    """`listening` users open their stream (spread over the processes, in batches over at least `spread` seconds);
    `messages` posted over the rooms; with `profile` (a path), the first process is sampled while they are."""
    streams, opening = {}, time.monotonic()
    CONNECTING.clear()
    for first in range(0, listening, OPEN_BATCH):  # pages open over time, not all in one instant
        batch = emails[first : min(first + OPEN_BATCH, listening)]
        # Set up once its start frames are in (the last is `invitations`): opening work does not overlap the run.
        opened = [
            Listener(ports[(first + i) % len(ports)], "/v1/events", tokens[e], b"event: invitations", resume=True)
            for i, e in enumerate(batch)
        ]
        streams.update(zip(batch, opened, strict=True))
        read_all(opened, lambda opened=opened: all(s.ready for s in opened), 60)
        if not all(s.ready for s in opened):  # measure with those that opened, and say so
            print(f"only {sum(s.ready for s in streams.values())} of {listening} streams opened", file=sys.stderr)
            break
        due = opening + spread * (first + len(batch)) / listening
        if time.monotonic() < due:  # the open ones keep being read (and resumed) meanwhile
            read_all(list(streams.values()), lambda: False, due - time.monotonic())
    streams = {email: stream for email, stream in streams.items() if stream.ready}
    time.sleep(1)
    rooms = list(members)
    posters = {}
    sent: dict[str, tuple[str, float]] = {}
    memory = [rss_mib(pid) for pid in pids]
    expecting = [0]  # deliveries due so far: each message to each member with a stream
    posts: list[float] = []  # each POST's own latency: how much of a delivery's is the database's commit
    watched = pids + ([db] if db else [])
    cpu_before, wall, client_before = [cpu_seconds(pid) for pid in watched], time.monotonic(), time.process_time()
    resumed_before = sum(stream.resumes for stream in streams.values())

    def post_all():
        order = random.Random(2)
        for i in range(messages):
            roomid = order.choice(rooms)
            author = members[roomid][0]
            http = posters.setdefault(author, requests.Session())
            http.cookies.set("session", tokens[author])
            text = f"bench {i} {secrets.token_hex(4)}"
            started = time.monotonic()
            sent[text] = (roomid, started)
            expecting[0] += sum(1 for email in members[roomid] if email in streams)
            port = ports[i % len(ports)]
            http.post(f"http://127.0.0.1:{port}/v1/logs/{roomid}", json={"m": text}).raise_for_status()
            posts.append((time.monotonic() - started) * 1000)
            time.sleep(max(0.0, started + 1 / rate - time.monotonic()))

    writer = threading.Thread(target=post_all)
    spy = start_profile(pids[0], messages / rate, profile) if profile else None
    writer.start()
    got = lambda: sum(len(s.received) for s in streams.values())  # noqa: E731
    read_all(list(streams.values()), lambda: not writer.is_alive() and got() >= expecting[0], 120)
    writer.join()
    if spy:
        spy.wait(60)
    elapsed = time.monotonic() - wall
    cpu = [(cpu_seconds(pid) - before) / elapsed * 100 for pid, before in zip(watched, cpu_before, strict=True)]
    client_cpu = (time.process_time() - client_before) / elapsed * 100
    read_all(list(streams.values()), lambda: False, 1.0)  # anything extra (a duplicate) would arrive now
    resumes = sum(stream.resumes for stream in streams.values()) - resumed_before  # streams the server ended
    latencies, lost, duplicated, deliveries, short, gaps = [], 0, 0, 0, [], []
    for email, stream in streams.items():
        wanted = {text for text, (roomid, _) in sent.items() if email in members[roomid]}
        texts = [text for _, _, text, _ in stream.received if text in sent]
        deliveries += len(wanted)
        lost += len(wanted - set(texts))
        duplicated += len(texts) - len(set(texts))
        latencies += [(at - sent[text][1]) * 1000 for _, _, text, at in stream.received if text in sent]
        if wanted - set(texts):  # what became of a stream that lost some: for the report on stderr
            last = max((at for _, _, _, at in stream.received), default=wall) - wall
            short.append((round(last), stream.status or 0, stream.resumes, stream.sock.fileno() >= 0))
            # When the lost ones were posted, against the stream's (re)connections (seconds into the run).
            missing = sorted(sent[text][1] - wall for text in wanted - set(texts))
            gaps.append((missing[0], missing[-1], len(missing), [round(c - wall, 1) for c in stream.connected]))
        stream.sock.close()
    if CONNECTING:
        made = sorted(CONNECTING)
        print(f"connections made: {len(made)}, {sum(made):.1f} s in all, slowest {made[-5:]}", file=sys.stderr)
    if short:
        print(f"{len(short)} streams lost some; (last receipt s into the run, status, resumes, open):", file=sys.stderr)
        print(sorted(short)[:: max(1, len(short) // 20)], file=sys.stderr)
        heading = "(first lost posted at, last lost posted at, how many, connections made at), s into the run:"
        print(heading, file=sys.stderr)
        for gap in sorted(gaps)[:: max(1, len(gaps) // 20)]:
            print(f"  {gap[0]:.1f} {gap[1]:.1f} {gap[2]} {gap[3]}", file=sys.stderr)
    return {
        "listening": len(streams),
        "processes": len(ports),
        "deliveries": deliveries,
        "lost": lost,
        "duplicated": duplicated,
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
        "rss": memory,
        "cpu": cpu[: len(pids)],
        "db_cpu": cpu[len(pids)] if db else float("nan"),
        "post50": percentile(posts, 0.5),
        "post99": percentile(posts, 0.99),
        "resumes": resumes,
        "client_cpu": client_cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--rooms", type=int, default=100)
    parser.add_argument("--per-user", type=int, default=10)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10.0, help="messages posted per second")
    parser.add_argument("--processes", default="1,2", help="runs: how many web processes share the streams")
    parser.add_argument("--threads", type=int, default=1100, help="WEB_THREADS of each web process")
    parser.add_argument("--profile", type=Path, help="where py-spy writes the last run's first process's samples")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the web processes (settings)")
    parser.add_argument("--spread", type=float, default=0.0, help="open the streams over at least this many seconds")
    parser.add_argument("--stream-seconds", type=int, default=300, help="STREAM_MAX_SECONDS: how long a stream lasts")
    parser.add_argument(
        "--storage", default=":memory:", help="SecantusDB's storage: a folder (durable, as deployed) or :memory:"
    )
    args = parser.parse_args()
    raise_open_files_limit(args.users + 512)
    limits = {
        "WEB_THREADS": str(args.threads),
        "WEB_CONNECTION_LIMIT": str(args.threads + 400),
        "STREAM_MAX_SECONDS": str(args.stream_seconds),
        **dict(pair.split("=", 1) for pair in args.env),
    }
    mongo, redis_server = Mongo(args.storage), Redis()
    webs = []
    rows = []
    try:
        store = Store(mongo.uri("bench_user_fanout"), redis_server.url)
        store.ensure_indexes()
        emails, members, tokens = populate(store, args.users, args.rooms, args.per_user)
        webs = [start_web(mongo.uri("bench_user_fanout"), redis_server.url, **limits) for _ in range(2)]
        one = ([webs[0][1]], [webs[0][0].pid])
        run(*one, emails, members, tokens, 10, 10, args.rate)  # warm-up: first connections, first queries
        time.sleep(2)
        baseline = run(*one, emails, members, tokens, 10, 100, args.rate)
        runs = [int(n) for n in args.processes.split(",")]
        for i, processes in enumerate(runs):
            time.sleep(3)  # the previous run's streams notice their clients are gone
            ports, pids = [port for _, port in webs[:processes]], [web.pid for web, _ in webs[:processes]]
            profile = args.profile if i == len(runs) - 1 else None
            rows.append(
                run(
                    ports,
                    pids,
                    *(emails, members, tokens, args.users, args.messages, args.rate),
                    profile,
                    mongo.proc.pid,
                    args.spread,
                )
            )
    finally:
        for web, _ in webs:
            web.terminate()
            web.wait(20)
        redis_server.stop()
        mongo.stop()
    print(
        f"cores: {os.cpu_count()}; {args.users} users each in {args.per_user} of {args.rooms} rooms, one user stream "
        f"each; {args.messages} messages at {args.rate:g}/s over the rooms; streams end after {args.stream_seconds} s "
        "and resume with Last-Event-ID as a browser does; the bench client shares the machine"
    )
    print(f"baseline: 10 streams p50 {baseline['p50']:.1f} ms, p99 {baseline['p99']:.1f} ms")
    print(
        f"{'procs':>5}{'streams':>8}{'deliveries':>11}{'lost':>5}{'dup':>4}{'p50 ms':>8}{'p99 ms':>8}{'p99/base':>9}"
        f"{'resumes':>8}{'POST p50/p99':>14}{'db CPU':>7}{'client':>7}  RSS MiB / CPU % of a core, per web process"
    )
    for row in rows:
        per = ", ".join(f"{rss:.0f} / {cpu:.0f}" for rss, cpu in zip(row["rss"], row["cpu"], strict=True))
        print(
            f"{row['processes']:>5}{row['listening']:>8}{row['deliveries']:>11}{row['lost']:>5}{row['duplicated']:>4}"
            f"{row['p50']:>8.1f}{row['p99']:>8.1f}{row['p99'] / baseline['p99']:>9.1f}{row['resumes']:>8}"
            f"{row['post50']:>7.1f}/{row['post99']:<6.1f}{row['db_cpu']:>6.0f}%{row['client_cpu']:>6.0f}%  {per}"
        )
    if args.profile and args.profile.exists():
        print(f"profile of the last run's first process ({args.profile}):")
        print("\n".join(profile_summary(args.profile)))


if __name__ == "__main__":
    main()
