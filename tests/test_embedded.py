"""The embedded default: `python chat.py` with no MONGODB_URI runs its own SecantusDB child."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from pymongo import monitoring

from scripts.servers import ROOT, wait_for_port
from store import db as dbmod
from store.embedded import free_port


def serve(data_dir, port, **settings):
    env = {k: v for k, v in os.environ.items() if k not in ("MONGODB_URI", "REDIS_URL", "S3_BUCKET")}
    env.update(PORT=str(port), DATA_DIR=str(data_dir), **settings)
    proc = subprocess.Popen(  # its own process group: the service and its database child, to kill at once
        [sys.executable, "chat.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    wait_for_port(port, proc, "chat.py", timeout=60)
    return proc


def call(port, path, body=None, cookie=None):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode() if body else None,
        headers={"Content-Type": "application/json", **({"Cookie": cookie} if cookie else {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as res:
            return res.status, json.loads(res.read()), res.headers.get("Set-Cookie")
    except urllib.error.HTTPError as res:
        return res.code, json.loads(res.read() or b"null"), None


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


def test_release_creates_indexes(mongo_server):
    env = {**os.environ, "MONGODB_URI": mongo_server.uri("release_test")}
    result = subprocess.run(
        [sys.executable, "chat.py", "release"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and "indexes created" in result.stdout


def test_every_acknowledged_write_survives_a_kill_of_the_service_and_its_database(tmp_path):
    port, user, password = free_port(), "ann@example.com", "long enough"
    proc = serve(tmp_path, port, RATE_MESSAGES="1000/10")
    try:
        status, _, set_cookie = call(port, "/auth/register", {"username": user, "password": password})
        assert status == 201
        cookie = set_cookie.split(";")[0]
        status, body, _ = call(port, "/v1/room", {"userid": user, "action": "enter", "roomid": None}, cookie)
        assert status == 200
        roomid = body["roomid"]
        acknowledged = []
        for i in range(30):
            status, message, _ = call(port, f"/v1/logs/{roomid}", {"m": f"burst {i}"}, cookie)
            assert status == 201
            acknowledged.append((message["id"], message["m"]))
    finally:
        # A crash of the whole thing at once, right after the last 201: no clean shutdown, no final flush.
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(20)
    for pid in db_children(tmp_path):  # it dies with its parent (PR_SET_PDEATHSIG); make sure of it
        os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: not db_children(tmp_path))
    proc = serve(tmp_path, port)
    try:
        status, body, _ = call(port, f"/v1/logs/{roomid}?limit=1000", cookie=cookie)
        assert status == 200, "the session cookie from before the crash still works"
        assert [(m["id"], m["m"]) for m in body["logs"]] == acknowledged
        status, body, _ = call(port, f"/v1/room/{user}", cookie=cookie)
        assert [room["roomid"] for room in body["join_rooms"]] == [roomid]
        status, _, _ = call(port, "/auth/login", {"username": user, "password": password})
        assert status == 200
        status, message, _ = call(port, f"/v1/logs/{roomid}", {"m": "after the crash"}, cookie)
        assert (status, message["id"]) == (201, acknowledged[-1][0] + 1), "a fresh id, not a lost one reused"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(20)


def test_writes_and_transaction_commits_ask_for_the_journal_of_a_majority(mongo_server):
    seen = []

    class Commands(monitoring.CommandListener):
        def started(self, event):
            if event.command_name in ("insert", "findAndModify", "commitTransaction"):
                seen.append((event.command_name, event.command.get("writeConcern")))

        def succeeded(self, event):
            pass

        def failed(self, event):
            seen.append((event.command_name, "failed"))

    client = dbmod.connect(mongo_server.uri("durability_test"), event_listeners=[Commands()])
    try:
        db = dbmod.database(client)
        dbmod.next_value(db, "durability")
        dbmod.atomic(db, lambda session: db.notes.insert_one({"n": 1}, session=session))
    finally:
        client.close()
    durable = {"w": "majority", "j": True}
    # Inside a transaction only the commit carries a write concern (the server refuses one on its writes).
    assert seen == [("findAndModify", durable), ("insert", None), ("commitTransaction", durable)]
