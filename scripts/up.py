"""`make up`: the production shape on one machine.

Starts redis-server, a SecantusDB server (data under DATA_DIR/up-db) and moto_server (S3) on free
ports, creates the bucket, runs the Procfile's release step, then runs every Procfile process with
honcho, wired by the same environment variables a Heroku-style deploy sets. Ctrl-C stops it all.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

from scripts.servers import ROOT, S3, Redis
from store.embedded import start_server, stop_server

BUCKET = "chat-images"


def main() -> None:
    data_dir = Path(os.environ.get("DATA_DIR", "var"))
    data_dir.mkdir(parents=True, exist_ok=True)
    redis_server, s3 = Redis(), S3()
    mongo, mongo_uri = start_server(str(data_dir / "up-db"), log_path=data_dir / "up-secantusd.log")
    try:
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "PORT": os.environ.get("PORT", "8080"),
            "MONGODB_URI": mongo_uri.replace("/?", "/chat?"),
            "REDIS_URL": redis_server.url,
            "S3_BUCKET": BUCKET,
            "S3_ENDPOINT_URL": s3.url,
            "S3_PUBLIC_URL": f"{s3.url}/{BUCKET}",
            "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "test"),
            "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
            "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
            "PYTHONUNBUFFERED": "1",
        }
        s3.create_public_bucket(BUCKET)
        print(
            f"make up: MONGODB_URI={env['MONGODB_URI']} REDIS_URL={env['REDIS_URL']} "
            f"S3_ENDPOINT_URL={env['S3_ENDPOINT_URL']}",
            flush=True,
        )
        subprocess.run([sys.executable, "chat.py", "release"], cwd=ROOT, env=env, check=True)
        formation = os.environ.get("FORMATION", "web=1,worker=1")  # e.g. web=2,worker=2: web.2 on PORT+1
        honcho = [
            str(Path(sys.executable).parent / "honcho"),
            "start",
            "-f",
            "Procfile",
            "-c",
            formation,
            "-p",
            env["PORT"],
        ]
        procs = subprocess.Popen(honcho + ["web", "worker"], cwd=ROOT, env=env)
        signal.signal(signal.SIGTERM, lambda *_: procs.send_signal(signal.SIGINT))
        try:
            procs.wait()
        except KeyboardInterrupt:
            procs.send_signal(signal.SIGINT)  # honcho stops its processes politely
            procs.wait()
    finally:
        stop_server(mongo)
        s3.stop()
        redis_server.stop()


if __name__ == "__main__":
    main()
