"""The embedded default: `python chat.py` with no MONGODB_URI runs its own SecantusDB child."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

from scripts.servers import ROOT, wait_for_port
from store.embedded import free_port


def serve(data_dir, port):
    env = {k: v for k, v in os.environ.items() if k not in ("MONGODB_URI", "REDIS_URL", "S3_BUCKET")}
    env.update(PORT=str(port), DATA_DIR=str(data_dir))
    proc = subprocess.Popen(
        [sys.executable, "chat.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    wait_for_port(port, proc, "chat.py", timeout=60)
    return proc


def call(port, path, body=None, cookie=None):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode() if body else None,
        headers={"Content-Type": "application/json", **({"Cookie": cookie} if cookie else {})},
    )
    with urllib.request.urlopen(request, timeout=10) as res:
        return res.status, json.loads(res.read()), res.headers.get("Set-Cookie")


def db_children(data_dir) -> list[int]:
    out = subprocess.run(["pgrep", "-f", f"storage-path {data_dir}/db"], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


def wait_until(condition, timeout=15.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_data_survives_restart_and_the_child_stops_with_the_service(tmp_path):
    port = free_port()
    proc = serve(tmp_path, port)
    try:
        status, body, _ = call(port, "/auth/register", {"username": "ann@example.com", "password": "long enough"})
        assert (status, body) == (201, {"user": "ann@example.com"})
        assert len(db_children(tmp_path)) == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
    assert wait_until(lambda: not db_children(tmp_path)), "SecantusDB outlived a SIGTERM of the service"
    proc = serve(tmp_path, port)
    try:
        status, body, _ = call(port, "/auth/login", {"username": "ann@example.com", "password": "long enough"})
        assert status == 200
    finally:
        proc.kill()  # a crash: the child must not outlive it
        proc.wait(20)
    assert wait_until(lambda: not db_children(tmp_path)), "SecantusDB outlived a crash of the service"


def test_a_database_that_cannot_start_is_explained(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    env = {k: v for k, v in os.environ.items() if k != "MONGODB_URI"}
    env.update(PORT=str(free_port()), DATA_DIR=str(tmp_path / "file"))
    result = subprocess.run([sys.executable, "chat.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "chat could not start" in result.stderr


def test_release_creates_indexes(mongo_server):
    env = {**os.environ, "MONGODB_URI": mongo_server.uri("release_test")}
    result = subprocess.run(
        [sys.executable, "chat.py", "release"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and "indexes created" in result.stdout
