"""Start-up that says what is wrong: `python chat.py` with a crafted environment, one line on stderr, exit non-zero."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest

from routes.sse import RESERVED_THREADS
from scripts.sample_images import png
from scripts.servers import ROOT
from settings import _READERS, MIN_WEB_THREADS
from store.embedded import free_port, server_command


def chat_env(tmp_path, **settings) -> dict:
    """The embedded default on a free port in tmp_path, plus `settings`; nothing inherited from the caller's."""
    env = {k: v for k, v in os.environ.items() if k not in _READERS and not k.startswith(("S3_", "AWS_"))}
    env.update(PORT=str(free_port()), DATA_DIR=str(tmp_path / "data"))
    env.update(settings)
    return env


def run_chat(tmp_path, *args, **settings) -> subprocess.CompletedProcess:
    env = chat_env(tmp_path, **settings)
    command = [sys.executable, "chat.py", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def refusal(result: subprocess.CompletedProcess) -> str:
    """The one line a failed start printed; asserts the shape every start failure shares."""
    assert result.returncode != 0
    assert "serving on" not in result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.parametrize(
    "name, value, allowed",
    [
        ("PORT", "99999", "1 to 65535"),
        ("PORT", "-1", "1 to 65535"),
        ("PORT", "abc", "1 to 65535"),
        ("PORT", "0", "1 to 65535"),
        ("HOST", "local host", "host name or an IP address"),
        ("WEB_THREADS", "8", "65 to 10000"),
        ("WEB_THREADS", "many", "65 to 10000"),
        ("WEB_CONNECTION_LIMIT", "0", "1 to 100000"),
        ("IMAGE_MAX_BYTES", "-5", "1 to 1073741824"),
        ("IMAGE_MAX_BYTES", "5MB", "1 to 1073741824"),
        ("SESSION_DAYS", "0", "1 to 3650"),
        ("PROXY_HOPS", "-1", "0 to 20"),
        ("STREAMS_PER_USER", "0", "1 to 10000"),
        ("BROKER_VISIBILITY_TIMEOUT", "7200", "1 to 3600"),
        ("HEARTBEAT_SECONDS", "nan", "above 0"),
        ("STREAM_MAX_SECONDS", "0", "above 0"),
        ("IMAGE_WAIT_SECONDS", "inf", "above 0"),
        ("RATE_MESSAGES", "20", "COUNT/SECONDS"),
        ("MONGODB_URI", "localhost:27017", "mongodb://"),
        ("REDIS_URL", "localhost:6379", "redis://"),
        ("S3_ENDPOINT_URL", "minio:9000", "http://"),
        ("S3_BUCKET", "My Bucket", "bucket name"),
    ],
)
def test_a_setting_out_of_range_is_named_with_what_is_allowed(tmp_path, name, value, allowed):
    line = refusal(run_chat(tmp_path, **{name: value}))
    assert line.startswith(f"{name}=") or line.startswith(f"{name} ")
    assert allowed in line
    assert not (tmp_path / "data").exists(), "nothing is started before the settings are checked"


def test_a_uri_setting_never_repeats_its_value(tmp_path):
    line = refusal(run_chat(tmp_path, MONGODB_URI="mongo://ann:secret@db.example.com/chat"))
    assert "MONGODB_URI" in line and "secret" not in line


def test_web_threads_minimum_leaves_a_thread_for_streams():
    assert MIN_WEB_THREADS == RESERVED_THREADS + 1


def test_a_port_in_use_is_named_with_what_to_do(tmp_path):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        line = refusal(run_chat(tmp_path, PORT=str(port)))
    assert line == f"chat could not start: port {port} is in use: stop the other server or set PORT to a free port"


def test_a_host_that_is_not_this_machine_is_named(tmp_path):
    line = refusal(run_chat(tmp_path, HOST="192.0.2.1"))  # TEST-NET-1: never an address of this machine
    assert "HOST=192.0.2.1 is not an address of this machine" in line


def start_chat(tmp_path, **settings) -> tuple[subprocess.Popen, int]:
    """A served chat.py; returns once it said 'serving on', which must mean the port already answers."""
    env = chat_env(tmp_path, **settings)
    proc = subprocess.Popen(
        [sys.executable, "chat.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    first = proc.stdout.readline()
    port = int(env["PORT"])
    assert first == f"chat serving on http://127.0.0.1:{port}/\n", proc.stderr.read() if not first else first
    socket.create_connection(("127.0.0.1", port), timeout=2).close()  # no retry: bound before it said so
    return proc, port


def stop_chat(proc: subprocess.Popen) -> str:
    """SIGTERM (a clean stop); return what it wrote to stderr."""
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return err


def test_a_second_chat_on_the_same_data_dir_says_so(tmp_path):
    proc, _ = start_chat(tmp_path)
    try:
        line = refusal(run_chat(tmp_path))
    finally:
        stop_chat(proc)
    data_dir = tmp_path / "data"
    assert line == (
        f"chat could not start: another chat is already using DATA_DIR={data_dir} "
        "(stop it, or set DATA_DIR to another folder)"
    )
    proc, _ = start_chat(tmp_path)  # the lock went with the first process
    stop_chat(proc)


def test_another_database_server_on_the_folder_is_named(tmp_path):
    storage = tmp_path / "data" / "db"
    other = subprocess.Popen(
        [server_command(), "--port", str(free_port()), "--storage-path", str(storage), "--standalone"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not (storage / "WiredTiger.lock").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)  # it holds the folder once it has opened it
        line = refusal(run_chat(tmp_path))
    finally:
        other.kill()
        other.wait()
    assert line == f"chat could not start: another process is already using the database folder {storage} " + (
        "(stop it, or use another folder)"
    )


@pytest.mark.parametrize("where", ["a file", "inside a file", "not permitted"])
def test_a_data_dir_that_cannot_be_used_is_named(tmp_path, where):
    (tmp_path / "file").write_text("not a folder")
    data_dir = {"a file": tmp_path / "file", "inside a file": tmp_path / "file" / "var", "not permitted": "/sys/chat"}
    line = refusal(run_chat(tmp_path, DATA_DIR=str(data_dir[where])))
    assert line.startswith(f"chat could not start: DATA_DIR={data_dir[where]} ")
    assert "set DATA_DIR to a folder" in line


@pytest.mark.parametrize("command", ["serve", "release"])
def test_a_mongodb_that_does_not_answer_is_named_without_its_password(tmp_path, command):
    port = free_port()
    line = refusal(run_chat(tmp_path, command, MONGODB_URI=f"mongodb://ann:secret@127.0.0.1:{port}/chat"))
    assert f"MongoDB at 127.0.0.1:{port} (MONGODB_URI) does not answer" in line
    assert "secret" not in line


def request(port, path, data=None, headers=None, cookie=""):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, headers={**(headers or {})})
    if cookie:
        req.add_header("Cookie", cookie)
    with urllib.request.urlopen(req, timeout=20) as res:
        return res.status, json.loads(res.read()), (res.headers.get("Set-Cookie") or "").split(";")[0]


def test_the_embedded_default_serves_without_warnings(tmp_path):
    proc, port = start_chat(tmp_path)
    try:
        body = json.dumps({"username": "ann@example.com", "password": "long enough"}).encode()
        _, _, cookie = request(port, "/auth/register", body, {"Content-Type": "application/json"})
        boundary = uuid.uuid4().hex
        form = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
                "Content-Type: image/png\r\n\r\n"
            ).encode()
            + png()
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        status, answer, _ = request(port, "/v1/image", form, headers, cookie)  # an (eager) Celery task
        assert status == 200 and answer["url"].startswith("/media/images/")
        time.sleep(3)  # the stats task runs in-process 2 s after the first change
    finally:
        err = stop_chat(proc)
    assert "No hostname was supplied" not in err
    assert err == ""
