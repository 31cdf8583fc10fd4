"""Requests per second of the main routes against bare waitress "hello", in one run.

Usage: .venv/bin/python -m bench.throughput [--seconds 10] [--connections 16]
Starts SecantusDB, redis-server and the service (`python chat.py`, real waitress) on free ports;
drives them with wrk (-t1, as this 2-core machine wants) and prints req/s and the ratio to the ceiling.
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


def main() -> None:
    if not shutil.which("wrk"):
        raise SystemExit("bench/throughput.py needs wrk (apt-get install wrk)")
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
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
        _, cookie = call(chat_port, "/auth/register", {"username": USER, "password": "long enough"})
        roomid = call(chat_port, "/v1/room", {"userid": USER, "action": "enter", "roomid": None}, cookie)[0]["roomid"]
        for i in range(200):
            call(chat_port, f"/v1/logs/{roomid}", {"m": f"warm-up {i}"}, cookie)
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
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        redis_server.stop()
        mongo.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
