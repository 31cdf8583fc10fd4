"""Start and stop the real servers the tests talk to, each on a free port."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis

from store.embedded import free_port, start_server, stop_server

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def wait_for_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout} s")


class Mongo:
    """A SecantusDB server; restartable on the same port and storage for outage tests.

    `durable` as start_server's: fsync on every commit, the default for on-disk storage.
    """

    def __init__(self, storage: str = ":memory:", durable: bool | None = None):
        self.port = free_port()
        self.storage = storage
        self.durable = durable
        self.proc = None
        self.start()

    def start(self):
        self.proc, _ = start_server(self.storage, port=self.port, durable=self.durable)

    def stop(self):
        stop_server(self.proc)

    def uri(self, db: str) -> str:
        return f"mongodb://127.0.0.1:{self.port}/{db}?directConnection=true"


class Redis:
    """redis-server; with `persist_dir`, an append-only file there keeps its data across restarts."""

    def __init__(self, persist_dir: Path | None = None):
        exe = shutil.which("redis-server")
        if not exe:
            raise RuntimeError("redis-server is not installed (make test installs it)")
        self.exe = exe
        self.port = free_port()
        self.persist_dir = persist_dir
        self.proc = None
        self.start()

    def start(self):
        persistence = ["--appendonly", "no"]
        if self.persist_dir:
            persistence = ["--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.persist_dir)]
        self.proc = subprocess.Popen(
            [self.exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", *persistence],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.proc, "redis-server")

    def stop(self):
        stop_server(self.proc)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def flush(self):
        redis.Redis.from_url(self.url).flushall()


class S3:
    """moto_server: a real S3 endpoint over HTTP."""

    def __init__(self):
        self.port = free_port()
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.proc, "moto_server")

    def stop(self):
        stop_server(self.proc)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(s3={"addressing_style": "path"}),
        )

    def create_public_bucket(self, bucket: str) -> None:
        """A bucket whose images anyone may read, as production's (a bucket policy: ACLs are off on new buckets)."""
        import json

        client = self.client()
        client.create_bucket(Bucket=bucket)
        client.put_bucket_policy(
            Bucket=bucket,
            Policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": "*",
                            "Action": "s3:GetObject",
                            "Resource": f"arn:aws:s3:::{bucket}/images/*",
                        }
                    ],
                }
            ),
        )

    def reset(self):
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(self.url + "/moto-api/reset", method="POST"), timeout=10)


def service_env(settings) -> dict:
    """The environment variables that give a child process these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONGODB_", "REDIS_", "S3_", "SMTP_"))}
    values = {
        "MONGODB_URI": settings.mongodb_uri,
        "REDIS_URL": settings.redis_url,
        "S3_BUCKET": settings.s3_bucket,
        "S3_ENDPOINT_URL": settings.s3_endpoint_url,
        "S3_PUBLIC_URL": settings.s3_public_url,
        "DATA_DIR": str(settings.data_dir),
        "IMAGE_MAX_BYTES": str(settings.image_max_bytes),
        "BROKER_VISIBILITY_TIMEOUT": str(settings.broker_visibility_timeout),
        "ADMIN_USERS": ",".join(sorted(settings.admin_users)),
        "VAPID_PRIVATE_KEY": settings.vapid_private_key,
        "VAPID_SUBJECT": settings.vapid_subject,
        "SMTP_URL": settings.smtp_url,
        "MAIL_FROM": settings.mail_from,
        "PUBLIC_URL": settings.public_url,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    env.update({k: v for k, v in values.items() if v})
    env["PYTHONPATH"] = str(ROOT)
    return env


class Worker:
    """A real Celery worker process (optionally with beat) for the given settings."""

    def __init__(self, settings, beat: bool = False, log_path: Path | None = None):
        self.settings = settings
        self.beat = beat
        self.log_path = log_path
        self.proc = None
        self.start()

    def start(self):
        cmd = [
            str(BIN / "celery"),
            "-A",
            "tasks.worker",
            "worker",
            "--loglevel=INFO",
            "--concurrency=2",
            "--pool=prefork",
            "--without-gossip",
            "--without-mingle",
        ]
        if self.beat:
            cmd += ["--beat", "--schedule", str(self.settings.data_dir / "beat-schedule")]
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=service_env(self.settings), stdout=log, stderr=subprocess.STDOUT
        )
        client = redis.Redis.from_url(self.settings.redis_url)
        deadline = time.monotonic() + 60
        # Ready when the worker has registered itself as a consumer of the queue.
        from tasks import make_celery

        app = make_celery(self.settings)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"celery worker exited with status {self.proc.returncode}")
            try:
                if app.control.ping(timeout=0.5):
                    return
            except Exception:  # noqa: BLE001 - broker not ready yet
                pass
            time.sleep(0.2)
        client.close()
        raise RuntimeError("celery worker did not answer a ping within 60 s")

    def stop(self, kill: bool = False):
        if self.proc.poll() is None:
            self.proc.kill() if kill else self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
