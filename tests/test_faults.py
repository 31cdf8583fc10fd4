"""Faults: the service fails fast while a dependency is away and recovers by itself."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
import webtest

from scripts.servers import Mongo
from tests.helpers import BUCKET, QUICK, StallingS3, Stream, User, Web, upload, with_s3

BOUND = 6.0  # seconds: pymongo gives up selecting a server after 3 s


@pytest.fixture
def own_mongo(tmp_path):
    """A database server of this test's own, on disk so it can stop and come back."""
    server = Mongo(storage=str(tmp_path / "db"))
    yield server
    server.stop()


def test_database_outage_mid_traffic_fails_fast_and_recovers(make_app, settings, own_mongo):
    app = make_app(replace(settings, mongodb_uri=own_mongo.uri("chat_faults")))
    ann = webtest.TestApp(app)
    ann.post_json("/auth/register", {"username": "ann@example.com", "password": "long enough"}, status=201)
    roomid = ann.post_json("/v1/room", {"userid": "ann@example.com", "action": "enter", "roomid": None}).json["roomid"]
    stop = threading.Event()
    answers = []  # (status, seconds)

    def traffic(i):
        while not stop.is_set():
            start = time.monotonic()
            if i % 2:
                res = ann.post_json(f"/v1/logs/{roomid}", {"m": "during the outage?"}, status="*", expect_errors=True)
            else:
                res = ann.get(f"/v1/logs/{roomid}", status="*", expect_errors=True)
            answers.append((res.status_int, time.monotonic() - start, res))

    with ThreadPoolExecutor(4) as pool:
        for i in range(4):
            pool.submit(traffic, i)
        time.sleep(0.5)
        own_mongo.stop()
        time.sleep(4)
        own_mongo.start()
        time.sleep(1)
        stop.set()
    failures = [(s, d, r) for s, d, r in answers if s >= 500]
    assert failures, "no request saw the outage"
    assert max(d for _, d, _ in answers) < BOUND
    for status, _, res in failures:
        assert status == 500
        assert res.json == {"error": "the database is unavailable; try again shortly"}
    # Recovered by itself: same app, no restart.
    deadline = time.monotonic() + 15
    while ann.get(f"/v1/logs/{roomid}", status="*", expect_errors=True).status_int != 200:
        assert time.monotonic() < deadline, "the service did not recover after the database returned"
        time.sleep(0.2)
    ann.post_json(f"/v1/logs/{roomid}", {"m": "after the outage"}, status=201)
    ids = [m["id"] for m in ann.get(f"/v1/logs/{roomid}?limit=1000").json["logs"]]
    assert ids == list(range(1, len(ids) + 1))  # nothing half-written: ids stay dense


def test_healthz_reports_a_database_outage_quickly(make_app, settings, own_mongo):
    app = webtest.TestApp(make_app(replace(settings, mongodb_uri=own_mongo.uri("chat_faults"))))
    own_mongo.stop()
    start = time.monotonic()
    res = app.get("/healthz", status=503)
    assert res.json["mongo"].startswith("down")
    assert time.monotonic() - start < BOUND
    own_mongo.start()
    app.get("/healthz", status=200)


def test_rate_limits_give_way_while_redis_is_away(make_app, settings):
    from scripts.servers import Redis

    own_redis = Redis()
    try:
        app = webtest.TestApp(make_app(replace(settings, redis_url=own_redis.url)))
        app.post_json("/auth/register", {"username": "ann@example.com", "password": "long enough"}, status=201)
        roomid = app.post_json("/v1/room", {"userid": "ann@example.com", "action": "enter", "roomid": None}).json[
            "roomid"
        ]
        own_redis.stop()
        start = time.monotonic()
        app.post_json(f"/v1/logs/{roomid}", {"m": "still talking"}, status=201)
        app.post_json("/auth/login", {"username": "ann@example.com", "password": "long enough"}, status=200)
        assert time.monotonic() - start < BOUND
        own_redis.start()
        app.post_json(f"/v1/logs/{roomid}", {"m": "and after"}, status=201)
    finally:
        own_redis.stop()


@pytest.fixture
def s3_settings(settings, s3_server, monkeypatch):
    """Settings that store images in the session's moto S3 (a fresh public bucket)."""

    for name, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    s3_server.reset()
    s3_server.create_public_bucket(BUCKET)
    return with_s3(settings, s3_server.url, s3_server.url)


def upload_in_background(user, data):
    """Start an upload; return (thread, answers) — the answer lands in the list when the route returns."""

    answers = []
    thread = threading.Thread(target=lambda: answers.append(upload(user, data, status="*")), daemon=True)
    thread.start()
    return thread, answers


def stored_objects(s3_server) -> list[str]:

    return [o["Key"] for o in s3_server.client().list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_a_worker_killed_mid_task_is_replaced_by_another(make_app, s3_settings, s3_server, new_user, tmp_path):
    from scripts.sample_images import png
    from scripts.servers import Worker

    stalling = StallingS3(s3_server.port)
    cfg = replace(with_s3(s3_settings, stalling.url, s3_server.url), broker_visibility_timeout=2, image_wait_seconds=40)
    user = new_user(app=make_app(cfg))
    first = Worker(cfg, log_path=tmp_path / "first.log")
    second = None
    try:
        thread, answers = upload_in_background(user, png(seed=91))
        assert stalling.stalled.wait(15), "the first worker never began the upload"
        second = Worker(cfg, log_path=tmp_path / "second.log")
        first.stop(kill=True)
        stalling.released.set()
        thread.join(40)
    finally:
        for worker in (first, second):
            if worker:
                worker.stop()
        stalling.close()
    assert answers and answers[0].status_int == 200, answers
    assert len(stored_objects(s3_server)) == 1
    assert "chat.store_image" in (tmp_path / "second.log").read_text()


def test_queued_tasks_survive_a_redis_restart(make_app, s3_settings, s3_server, new_user, tmp_path):
    """With Redis persistence on (as a production add-on has it), a restart loses no queued task."""
    from scripts.sample_images import png
    from scripts.servers import Redis, Worker

    own_redis = Redis(persist_dir=tmp_path)
    cfg = replace(s3_settings, redis_url=own_redis.url, image_wait_seconds=1)
    worker = None
    try:
        user = new_user(app=make_app(cfg))
        user.post("/v1/image", upload_files=[("file", "a.png", png(seed=92))], status=504)  # no worker yet: queued
        own_redis.stop()
        own_redis.start()
        assert stored_objects(s3_server) == []
        worker = Worker(cfg, log_path=tmp_path / "worker.log")
        deadline = time.monotonic() + 30
        while not stored_objects(s3_server):
            assert time.monotonic() < deadline, "the queued upload was lost in the restart"
            time.sleep(0.2)
    finally:
        if worker:
            worker.stop()
        own_redis.stop()


def test_a_killed_web_process_leaves_the_others_serving_and_its_streams_resume_elsewhere(settings, tmp_path):

    doomed, survivor = Web(settings, tmp_path, **QUICK), Web(settings, tmp_path, **QUICK)
    try:
        ann, bob = User(survivor), User(survivor)
        roomid = ann.create(survivor)
        bob.act(survivor, "enter", roomid)
        stream = Stream(doomed, roomid, bob.cookie)
        stream.block()  # retry hint
        for i in range(3):
            ann.say(survivor, roomid, f"before {i}")
        assert stream.message_ids_through(3, quiet_pings=0) == [1, 2, 3]
        doomed.proc.kill()  # a crash: no goodbye to the client
        doomed.proc.wait(10)
        stream.rest()  # returns: the connection just drops
        for i in range(3):  # the others keep serving meanwhile
            ann.say(survivor, roomid, f"during {i}")
        # The browser reconnects (the router sends it to a live process) with the last id it saw.
        resumed = Stream(survivor, roomid, bob.cookie, headers={"Last-Event-ID": "3"})
        assert resumed.status == 200
        ann.say(survivor, roomid, "after")
        assert resumed.message_ids_through(7, quiet_pings=1) == [4, 5, 6, 7]
        resumed.close()
    finally:
        for web in (doomed, survivor):
            if web.proc.poll() is None:
                web.stop()
            else:
                web.log.close()
