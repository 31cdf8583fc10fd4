"""Requests per second of the main routes against bare waitress "hello", in one run.

Usage: .venv/bin/python -m bench.throughput [--seconds 10] [--connections 16] [--no-durability]
Starts SecantusDB, redis-server and the service (`python chat.py`, real waitress) on free ports;
drives them with wrk (-t1, as this 2-core machine wants) and prints req/s and the ratio to the ceiling.
The durability cases run the POST again against two on-disk SecantusDB servers, one that fsyncs its
log on every commit (`--sync-on-commit`, as the embedded default) and one that does not, each with
its own service, and print the ratio of the two (--no-durability skips them).
"""

import argparse
import os
import shutil
import tempfile
from pathlib import Path

from bench.service import USER, post_script, prepare, start_chat, start_waitress, wrk
from chat import server_options
from scripts.servers import Mongo, Redis
from settings import Settings
from store.embedded import free_port


def durable_post_rates(tmp: Path, redis_url: str, script: str, seconds: int, connections: int) -> dict[bool, float]:
    """POST req/s with and without an fsync per commit, each on its own on-disk SecantusDB and service."""
    rates = {}
    for durable in (False, True):
        mongo = Mongo(storage=str(tmp / f"db-durable-{durable}"), durable=durable)
        settings = Settings(mongodb_uri=mongo.uri("bench"), redis_url=redis_url, data_dir=tmp)
        port = free_port()
        proc = start_chat(settings, port)
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
        procs.append(start_waitress(settings, hello_port, "bench.hello:app"))
        procs.append(start_chat(settings, chat_port))
        cookie, roomid = prepare(chat_port)
        script = post_script(tmp)
        base = f"http://127.0.0.1:{chat_port}"
        cases = [
            ("waitress hello (ceiling)", f"http://127.0.0.1:{hello_port}/", None),
            ("GET /v1/room/:userid", f"{base}/v1/room/{USER}", None),
            ("GET /v1/logs/:roomid", f"{base}/v1/logs/{roomid}", None),
            ("POST /v1/logs/:roomid", f"{base}/v1/logs/{roomid}", script),
        ]
        results = [(name, wrk(url, args.seconds, args.connections, cookie, lua)) for name, url, lua in cases]
        ceiling = results[0][1]
        print(
            f"cores: {os.cpu_count()}; wrk -t1 -c{args.connections} -d{args.seconds}s; "
            f"waitress threads={options['threads']}"
        )
        print(f"{'case':<28}{'req/s':>10}{'ratio':>8}")
        for name, rate in results:
            print(f"{name:<28}{rate:>10.0f}{rate / ceiling:>8.3f}")
        if not args.no_durability:
            rates = durable_post_rates(tmp, redis_server.url, script, args.seconds, args.connections)
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
