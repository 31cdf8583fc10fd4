"""Soak: two web processes and a worker for a while, hundreds of open streams, a steady stream of posts.

Usage: .venv/bin/python -m bench.soak [--seconds 60] [--streams 300] [--rate 10]
Every listener must receive every message, in order: prints lost, duplicated, out of order,
errors, and post and delivery latency.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.sse import Stream
from scripts.servers import ROOT, Mongo, Redis, Worker, service_env, wait_for_port
from settings import Settings
from store.embedded import free_port

PASSWORD = "long enough"


def call(port: int, path: str, body: dict, cookie: str = "") -> tuple[int, dict, str]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Cookie": cookie},
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as res:
            set_cookie = (res.headers.get("Set-Cookie") or "").split(";")[0]
            return res.status, json.loads(res.read()), set_cookie or cookie
    except urllib.error.HTTPError as err:
        return err.code, {}, cookie


def percentile(values: list[float], fraction: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * fraction))] if values else float("nan")


def web_env(settings: Settings, port: int) -> dict:
    return {
        **service_env(settings),
        "PORT": str(port),
        "WEB_THREADS": "600",
        "RATE_MESSAGES": "1000000/10",
        "RATE_REGISTER": "1000000/10",
        "STREAMS_PER_USER": "1000",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--streams", type=int, default=300)
    parser.add_argument("--rate", type=float, default=10.0, help="posts per second, all posters together")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="chat-soak-"))
    mongo, redis_server = Mongo(), Redis()
    settings = Settings(mongodb_uri=mongo.uri("soak"), redis_url=redis_server.url, data_dir=tmp)
    worker = Worker(settings)
    ports = [free_port(), free_port()]
    webs = []
    streams = []
    try:
        for port in ports:
            webs.append(
                subprocess.Popen(
                    [sys.executable, "chat.py"],
                    cwd=ROOT,
                    env=web_env(settings, port),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            wait_for_port(port, webs[-1], "chat web", timeout=60)
        users = []
        for i in range(33):
            _, _, cookie = call(
                ports[i % 2], "/auth/register", {"username": f"soak{i}@example.com", "password": PASSWORD}
            )
            users.append((f"soak{i}@example.com", cookie))
        posters, listeners = users[:3], users[3:]
        _, body, _ = call(
            ports[0], "/v1/room", {"userid": posters[0][0], "action": "enter", "roomid": None}, posters[0][1]
        )
        roomid = body["roomid"]
        for i, (email, cookie) in enumerate(users[1:]):
            call(ports[i % 2], "/v1/room", {"userid": email, "action": "enter", "roomid": roomid}, cookie)
        for i in range(args.streams):
            email, cookie = listeners[i % len(listeners)]
            streams.append(Stream(ports[i % 2], f"/v1/events/{roomid}", cookie, timeout=60))
        deadline = time.monotonic() + 30
        while any(s.status is None for s in streams) and time.monotonic() < deadline:
            time.sleep(0.1)
        refused = sum(1 for s in streams if s.status != 200)
        sent_at, post_latency, errors = {}, [], 0
        start, k = time.monotonic(), 0
        while time.monotonic() - start < args.seconds:
            email, cookie = posters[k % len(posters)]
            text = f"soak {k}"
            sent_at[text] = time.monotonic()
            status, _, _ = call(ports[k % 2], f"/v1/logs/{roomid}", {"m": text, "cid": f"k{k}"}, cookie)
            post_latency.append((time.monotonic() - sent_at[text]) * 1000)
            errors += status != 201
            k += 1
            time.sleep(max(0.0, start + k / args.rate - time.monotonic()))
        expected = k - errors
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(len(s.messages()) < expected for s in streams if s.status == 200):
            time.sleep(0.2)
        lost = duplicated = disordered = 0
        delivery = []
        for s in streams:
            ids = [i for i, _, _ in s.messages()]
            lost += len(set(range(1, expected + 1)) - set(ids))
            duplicated += len(ids) - len(set(ids))
            disordered += ids != sorted(ids)
            delivery += [(t - sent_at[d["m"]]) * 1000 for _, d, t in s.messages() if d["m"] in sent_at]
        closed_early = sum(1 for s in streams if s.closed.is_set())
        print(
            f"cores: {os.cpu_count()}; 2 web processes + 1 worker; {args.streams} streams "
            f"(refused {refused}); {args.seconds} s at {args.rate:g} posts/s"
        )
        print(f"posts: {k} sent, {errors} errors; every listener expects {expected}")
        print(
            f"lost: {lost}  duplicated: {duplicated}  listeners out of order: {disordered}  "
            f"streams closed early: {closed_early}"
        )
        print(f"post latency ms: p50 {statistics.median(post_latency):.1f}  p99 {percentile(post_latency, 0.99):.1f}")
        print(f"delivery latency ms: p50 {statistics.median(delivery):.1f}  p99 {percentile(delivery, 0.99):.1f}")
    finally:
        for s in streams:
            s.close()
        for web in webs:
            web.terminate()
            web.wait(15)
        worker.stop()
        redis_server.stop()
        mongo.stop()


if __name__ == "__main__":
    main()
