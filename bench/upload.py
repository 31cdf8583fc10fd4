"""End-to-end image uploads: POST /v1/image through waitress, a real Celery worker and moto S3.

Usage: .venv/bin/python -m bench.upload [--runs 200] [--clients 8]
Starts SecantusDB, redis-server, moto_server and a Celery worker (2 processes) on free ports and
serves the app with waitress. Every upload is a fresh PNG (so each one is written), except in the
"again" case. The baseline, measured in the same run, is the worker's own S3 work (HEAD + PUT of the
same bytes from this process, no web route, no Celery): the ratio is what the route and the queue add.
"""

import argparse
import http.client
import json
import os
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import waitress
from botocore.config import Config

from chat import create_app
from scripts.sample_images import png_of_size
from scripts.servers import S3, Mongo, Redis, Worker
from settings import Settings
from store.embedded import free_port
from store.media import S3Images, image_name

BUCKET = "bench-images"
BOUNDARY = "bench-boundary-7d1f"


class Client:
    """One keep-alive HTTP connection, logged in as its own user."""

    def __init__(self, port: int, email: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        body = json.dumps({"username": email, "password": "bench password"})
        answer = self.request("POST", "/auth/register", body.encode(), "application/json")
        self.cookie = answer.getheader("Set-Cookie").split(";")[0]
        answer.read()

    def request(self, method: str, path: str, body: bytes, content_type: str, cookie: str = ""):
        headers = {"Content-Type": content_type, **({"Cookie": cookie} if cookie else {})}
        self.conn.request(method, path, body, headers)
        return self.conn.getresponse()

    def upload(self, data: bytes) -> float:
        """Seconds for one upload to answer 200 with its URL."""
        body = (
            (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="x.png"\r\n'
                f"Content-Type: image/png\r\n\r\n"
            ).encode()
            + data
            + f"\r\n--{BOUNDARY}--\r\n".encode()
        )
        start = time.perf_counter()
        answer = self.request("POST", "/v1/image", body, f"multipart/form-data; boundary={BOUNDARY}", self.cookie)
        text = answer.read()
        elapsed = time.perf_counter() - start
        if answer.status != 200:
            raise SystemExit(f"upload answered {answer.status}: {text[:200]!r}")
        return elapsed


def percentiles(seconds: list[float]) -> tuple[float, float]:
    """p50 and p99 in milliseconds."""
    ms = sorted(s * 1000 for s in seconds)
    return statistics.median(ms), ms[max(0, int(len(ms) * 0.99) - 1)]


def timed(function, items) -> list[float]:
    samples = []
    for item in items:
        start = time.perf_counter()
        function(item)
        samples.append(time.perf_counter() - start)
    return samples


def at_once(uploaders: list, images: list[bytes]) -> tuple[list[float], float]:
    """Each uploader takes its share of the images in turn, all uploaders at once: samples and uploads/s."""
    start = time.perf_counter()
    with ThreadPoolExecutor(len(uploaders)) as pool:
        shares = pool.map(lambda i: timed(uploaders[i], images[i :: len(uploaders)]), range(len(uploaders)))
        samples = [seconds for share in shares for seconds in share]
    return samples, len(images) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    os.environ.update(
        {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}
    )
    mongo, redis_server, s3 = Mongo(), Redis(), S3()
    worker = server = None
    try:
        boto3.client("s3", endpoint_url=s3.url, config=Config(s3={"addressing_style": "path"})).create_bucket(
            Bucket=BUCKET
        )
        settings = Settings(
            mongodb_uri=mongo.uri("bench"),
            redis_url=redis_server.url,
            data_dir=Path(tempfile.mkdtemp()),
            s3_bucket=BUCKET,
            s3_endpoint_url=s3.url,
            s3_public_url=f"{s3.url}/{BUCKET}",
            upload_rate=(1_000_000, 60),
        )
        worker = Worker(settings)
        port = free_port()
        server = waitress.create_server(create_app(settings), host="127.0.0.1", port=port, threads=16)
        threading.Thread(target=server.run, daemon=True).start()
        direct = S3Images(BUCKET, s3.url)

        def direct_save(data: bytes) -> None:
            name = image_name(data)
            if not direct.has(name):
                direct.write(name, data, "")

        client = Client(port, "bench@example.com")
        seeds = iter(range(10**9))
        client.upload(png_of_size(1000, next(seeds)))  # warm up the worker and the connections
        direct_save(png_of_size(1000, next(seeds)))

        rows = []
        for label, size in (("100 KB", 100_000), ("1 MiB", 1 << 20)):
            images = [png_of_size(size, next(seeds)) for _ in range(2 * args.runs)]
            baseline = percentiles(timed(direct_save, images[: args.runs]))
            route = percentiles(timed(client.upload, images[args.runs :]))
            again = percentiles(timed(client.upload, images[args.runs :]))
            rows += [(f"{label} new", route, baseline), (f"{label} again (stored already)", again, None)]

        clients = [Client(port, f"bench{i}@example.com") for i in range(args.clients)]
        images = [png_of_size(100_000, next(seeds)) for _ in range(2 * args.runs)]
        baseline, baseline_rate = at_once([direct_save] * args.clients, images[: args.runs])
        route, rate = at_once([c.upload for c in clients], images[args.runs :])
        rows.append((f"100 KB new, {args.clients} clients at once", percentiles(route), percentiles(baseline)))
    finally:
        if server:
            server.close()
        if worker:
            worker.stop()
        for process in (s3, redis_server, mongo):
            process.stop()

    print(f"\n{args.runs} uploads per case; baseline: the worker's S3 work (HEAD + PUT) alone, from this process\n")
    print("| case | p50 ms | p99 ms | baseline p50 ms | ratio p50 |")
    print("|---|---|---|---|---|")
    for label, (p50, p99), baseline in rows:
        extra = f"{baseline[0]:.1f} | {p50 / baseline[0]:.2f}" if baseline else "– | –"
        print(f"| {label} | {p50:.1f} | {p99:.1f} | {extra} |")
    print(
        f"\n{args.clients} clients at once: {rate:.0f} uploads/s of 100 KB"
        f" ({baseline_rate:.0f}/s for the S3 work alone,"
        f" ratio {rate / baseline_rate:.2f})"
    )


if __name__ == "__main__":
    main()
