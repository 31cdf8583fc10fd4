"""Requests per second of the main routes against bare waitress "hello", in one run.

Usage: .venv/bin/python -m bench.throughput [--seconds 10] [--connections 16] [--no-durability]
Starts SecantusDB, redis-server and the service (`python chat.py`, real waitress) on free ports;
drives them with wrk (-t1, as this 2-core machine wants) and prints req/s and the ratio to the ceiling.
The durability cases run the POST again against two on-disk SecantusDB servers, one that fsyncs its
log on every commit (`--sync-on-commit`, as the embedded default) and one that does not, each with
its own service, and print the ratio of the two (--no-durability skips them).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from chat import server_options
from scripts.servers import ROOT, Mongo, Redis, service_env, wait_for_port
from settings import Settings
from store.embedded import free_port

USER = "bench@example.com"


def wrk(url: str, seconds: int, connections: int, cookie: str, script: str | None = None) -> float:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-H", f"Cookie: {cookie}"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        print(f"  warning: {errors.group(1)} non-2xx answers for {url}", file=sys.stderr)
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def call(port: int, path: str, body: dict, cookie: str = "") -> tuple[dict, str]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Cookie": cookie},
    )
    with urllib.request.urlopen(request, timeout=10) as res:
        set_cookie = res.headers.get("Set-Cookie") or ""
        return json.loads(res.read()), set_cookie.split(";")[0] or cookie


def start(cmd: list[str], env: dict, port: int, what: str) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, proc, what, timeout=60)
    return proc


def prepare(port: int) -> tuple[str, str]:
    """Register the bench user, create a room with 200 messages in it; return the cookie and the room."""
    _, cookie = call(port, "/auth/register", {"username": USER, "password": "long enough"})
    roomid = call(port, "/v1/room", {"userid": USER, "action": "enter", "roomid": None}, cookie)[0]["roomid"]
    for i in range(200):
        call(port, f"/v1/logs/{roomid}", {"m": f"warm-up {i}"}, cookie)
    return cookie, roomid


def durable_post_rates(tmp: Path, redis_url: str, script: str, seconds: int, connections: int) -> dict[bool, float]:
    """POST req/s with and without an fsync per commit, each on its own on-disk SecantusDB and service."""
    rates = {}
    for durable in (False, True):
        mongo = Mongo(storage=str(tmp / f"db-durable-{durable}"), durable=durable)
        settings = Settings(mongodb_uri=mongo.uri("bench"), redis_url=redis_url, data_dir=tmp)
        port = free_port()
        env = {**service_env(settings), "PORT": str(port), "RATE_MESSAGES": "100000000/10"}
        proc = start([sys.executable, "chat.py"], env, port, "chat")
        try:
            cookie, roomid = prepare(port)
            rates[durable] = wrk(f"http://127.0.0.1:{port}/v1/logs/{roomid}", seconds, connections, cookie, script)
        finally:
            proc.terminate()
            proc.wait(10)
            mongo.stop()
    return rates


def main() -> None:
    if not shutil.which("wrk"):
        raise SystemExit("bench/throughput.py needs wrk (apt-get install wrk)")
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--no-durability", action="store_true", help="skip the POST with and without fsync cases")
    args = parser.parse_args()
    mongo, redis_server = Mongo(), Redis()
    procs = []
    tmp = Path(tempfile.mkdtemp(prefix="chat-throughput-"))
    try:
        settings = Settings(mongodb_uri=mongo.uri("bench"), redis_url=redis_server.url, data_dir=tmp)
        options = server_options(settings)
        hello_port, chat_port = free_port(), free_port()
        hello_cmd = [
            str(Path(sys.executable).parent / "waitress-serve"),
            f"--port={hello_port}",
            f"--threads={options['threads']}",
            f"--connection-limit={options['connection_limit']}",
            "--asyncore-use-poll",
            "bench.hello:app",
        ]
        procs.append(start(hello_cmd, os.environ.copy(), hello_port, "hello"))
        env = {**service_env(settings), "PORT": str(chat_port), "RATE_MESSAGES": "100000000/10"}
        procs.append(start([sys.executable, "chat.py"], env, chat_port, "chat"))
        cookie, roomid = prepare(chat_port)
        post_script = tmp / "post.lua"
        post_script.write_text(
            'wrk.method = "POST"\nwrk.body = \'{"m": "hello from wrk"}\'\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
        )
        base = f"http://127.0.0.1:{chat_port}"
        cases = [
            ("waitress hello (ceiling)", f"http://127.0.0.1:{hello_port}/", None),
            ("GET /v1/room/:userid", f"{base}/v1/room/{USER}", None),
            ("GET /v1/logs/:roomid", f"{base}/v1/logs/{roomid}", None),
            ("POST /v1/logs/:roomid", f"{base}/v1/logs/{roomid}", str(post_script)),
        ]
        results = [(name, wrk(url, args.seconds, args.connections, cookie, script)) for name, url, script in cases]
        ceiling = results[0][1]
        print(
            f"cores: {os.cpu_count()}; wrk -t1 -c{args.connections} -d{args.seconds}s; "
            f"waitress threads={options['threads']}"
        )
        print(f"{'case':<28}{'req/s':>10}{'ratio':>8}")
        for name, rate in results:
            print(f"{name:<28}{rate:>10.0f}{rate / ceiling:>8.3f}")
        if not args.no_durability:
            rates = durable_post_rates(tmp, redis_server.url, str(post_script), args.seconds, args.connections)
            print("POST /v1/logs/:roomid on an on-disk SecantusDB:")
            print(f"{'  no fsync':<28}{rates[False]:>10.0f}{rates[False] / ceiling:>8.3f}")
            print(f"{'  fsync on every commit':<28}{rates[True]:>10.0f}{rates[True] / ceiling:>8.3f}")
            print(f"durable / not durable: {rates[True] / rates[False]:.3f}")
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        redis_server.stop()
        mongo.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
