"""Stats: GET /v1/stats, the aggregation task with a real Celery worker, privacy, paging, outages."""

import json
import math
import threading
import time
from datetime import timedelta

import pytest
import redis
import webtest

from routes.inputs import ID_MAX
from scripts.servers import Mongo, Worker
from settings import Settings
from store import Store
from store.db import next_value, now
from store.stats import CHUNK
from tasks import make_celery
from tasks.stats import DEBOUNCE_SECONDS, PENDING_KEY, TASK
from tests.helpers import TEST_DB, act, create

ADMIN = "admin@example.com"


def wait_for(condition, timeout=30.0, what="the condition"):
    """Poll until condition() returns something truthy; return it (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        time.sleep(0.1)
    return value


def post(client, roomid, text):
    return client.post_json(f"/v1/logs/{roomid}", {"m": text}, status=201).json


def snapshot_of(wsgi_app) -> dict | None:
    return wsgi_app.config["chat.store"].stats.snapshot()


@pytest.fixture
def worker(settings, tmp_path):
    """A real Celery worker with beat for the test's settings."""
    process = Worker(settings, beat=True, log_path=tmp_path / "worker.log")
    yield process
    process.stop()


@pytest.fixture
def plain_store(settings):
    """A store with no nudge hook: the aggregation driven by hand."""
    store = Store(settings.mongodb_uri)
    store.ensure_indexes()
    yield store
    store.close()


def fill(store, count, user="filler@example.com", act="message"):
    """Add `count` activity entries in one batch, ids from the real counter."""
    last = next_value(store.db, "activity", count)
    t = now()
    store.db.activity.insert_many(
        [{"_id": i, "u": user, "act": act, "m": f"m{i}", "t": t} for i in range(last - count + 1, last + 1)]
    )


def test_anonymous_is_401(client):
    client.get("/v1/stats", status=401)


def test_before_the_first_run_counts_are_zero_and_a_run_is_queued(new_user, redis_server):
    ann = new_user()
    broker = redis.Redis.from_url(redis_server.url)
    broker.delete(PENDING_KEY)
    res = ann.get("/v1/stats")
    assert {k: res.json[k] for k in ("room", "user", "messages", "rooms_open", "updated")} == {
        "room": 0,
        "user": 0,
        "messages": 0,
        "rooms_open": 0,
        "updated": None,
    }
    assert [(e["act"], e["u"]) for e in res.json["logs"]] == [("login", ann.user), ("register", ann.user)]
    assert broker.exists(PENDING_KEY)


def test_changes_queue_one_debounced_run(new_user, redis_server):
    ann = new_user()
    roomid = create(ann)
    for i in range(20):
        post(ann, roomid, f"hello {i}")
    broker = redis.Redis.from_url(redis_server.url)
    queued = [json.loads(entry)["headers"]["task"] for entry in broker.lrange("celery", 0, -1)]
    assert queued.count(TASK) == 1  # 23 activity entries, one queued aggregation (beside each message's push task)
    assert 0 < broker.ttl(PENDING_KEY) <= 30


def test_snapshot_catches_up_with_a_real_worker(worker, new_user, wsgi_app):
    ann, bob, admin = new_user(), new_user(), new_user(ADMIN)
    kept, dropped = create(ann, "kept"), create(ann, "dropped")
    act(bob, "enter", kept)
    for text in ("one", "two", "three"):
        post(ann, kept, text)
    post(bob, kept, "four")
    act(ann, "leave", dropped)  # the last member: the room is deleted
    expected = {"room": 2, "user": 3, "messages": 4, "rooms_open": 1}
    res = wait_for(lambda: (r := admin.get("/v1/stats")).json["messages"] == 4 and r, what="the snapshot catching up")
    assert {k: res.json[k] for k in expected} == expected
    assert res.json["messages_per_day"][-1] == {"day": now().strftime("%Y-%m-%d"), "messages": 4}
    assert now() - timedelta(seconds=30) < snapshot_of(wsgi_app)["updated"] <= now()
    assert make_celery(worker.settings).conf.beat_schedule["aggregate-stats"]["task"] == TASK


def test_a_burst_of_500_messages_causes_few_runs(worker, new_user, wsgi_app):
    ann = new_user()
    roomid = create(ann)
    wait_for(lambda: (snapshot_of(wsgi_app) or {}).get("counts", {}).get("create"), what="the first run")
    runs_before = snapshot_of(wsgi_app)["runs"]
    started = time.monotonic()
    for i in range(500):
        post(ann, roomid, f"burst {i}")
    burst_seconds = time.monotonic() - started
    snapshot = wait_for(
        lambda: (s := snapshot_of(wsgi_app))["counts"].get("message") == 500 and s, what="500 messages counted"
    )
    runs = snapshot["runs"] - runs_before
    # One run per debounce window while the burst lasts, one after it, and a beat run perhaps.
    assert 1 <= runs <= math.ceil(burst_seconds / DEBOUNCE_SECONDS) + 2, (runs, burst_seconds)


def test_members_see_only_their_own_entries_admins_see_all(new_user):
    ann, bob, admin = new_user(), new_user(), new_user(ADMIN)
    roomid = create(ann)
    act(bob, "enter", roomid)
    post(ann, roomid, "ann's secret")
    post(bob, roomid, "bob's secret")
    for member, other, secret in ((ann, bob, "bob's secret"), (bob, ann, "ann's secret")):
        res = member.get("/v1/stats")
        assert {e["u"] for e in res.json["logs"]} == {member.user}
        assert other.user not in res.text and secret not in res.text
    everyone = admin.get("/v1/stats").json["logs"]
    assert {e["u"] for e in everyone} == {ann.user, bob.user, ADMIN}
    assert [e["act"] for e in everyone if e["u"] != ADMIN] == [
        "message",
        "message",
        "enter",
        "create",
        "login",
        "register",
        "login",
        "register",
    ]
    message = everyone[1]
    assert (
        message["m"] == "ann's secret" and message["t"].endswith("Z") and set(message) == {"id", "m", "u", "t", "act"}
    )


def test_paging_with_limit_and_before(new_user):
    admin = new_user(ADMIN)
    roomid = create(admin)
    for i in range(20):
        post(admin, roomid, f"m{i}")
    everything = admin.get("/v1/stats").json
    ids = [e["id"] for e in everything["logs"]]
    assert ids == list(range(len(ids), 0, -1)) and everything["next"] is None
    pages, before = [], None
    while True:
        res = admin.get("/v1/stats", {"limit": 7, **({"before": before} if before else {})}).json
        pages.append([e["id"] for e in res["logs"]])
        before = res["next"]
        if before is None:
            break
    assert [len(p) for p in pages[:-1]] == [7] * (len(pages) - 1)
    assert sum(pages, []) == ids
    assert [e["id"] for e in admin.get("/v1/stats?before=5").json["logs"]] == [4, 3, 2, 1]
    assert admin.get("/v1/stats?before=1").json["logs"] == []
    assert admin.get("/v1/stats?before=100000&limit=2").json["logs"] == everything["logs"][:2]


def test_a_member_finds_their_entries_far_back(new_user, wsgi_app):
    ann = new_user()
    fill(wsgi_app.config["chat.store"], 20_000)
    res = ann.get("/v1/stats", {"limit": 5}).json
    assert [(e["act"], e["id"]) for e in res["logs"]] == [("login", 2), ("register", 1)]
    assert res["next"] is None


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=1001",
        "limit=-1",
        "limit=abc",
        "limit=1.5",
        "limit=",
        "limit=%EF%BC%91",
        "before=0",
        "before=-3",
        "before=x",
        "before=9007199254740993",
        "before=",
    ],
)
def test_bad_limit_or_before_is_400(new_user, query):
    res = new_user().get(f"/v1/stats?{query}", status=400)
    name = query.split("=")[0]
    assert res.json == {"error": f"{name} must be a whole number from 1 to {1000 if name == 'limit' else ID_MAX}"}


def test_database_outage_gives_the_error_page_then_recovers(tmp_path, redis_server, fresh_db, make_app):
    mongo = Mongo(storage=str(tmp_path / "db"))
    try:
        settings = Settings(mongodb_uri=mongo.uri(TEST_DB), redis_url=redis_server.url, data_dir=tmp_path)
        ann = webtest.TestApp(make_app(settings))
        ann.post_json("/auth/register", {"username": "ann@example.com", "password": "long enough"}, status=201)
        ann.get("/v1/stats", status=200)
        mongo.stop()
        started = time.monotonic()
        res = ann.get("/v1/stats", status=500, expect_errors=True)  # the traceback goes to wsgi.errors
        assert time.monotonic() - started < 3
        assert res.content_type == "text/html" and "<h1>500 Internal Server Error</h1>" in res.text
        assert "the database is unavailable" in res.text
        mongo.start()
        res = wait_for(
            lambda: (r := ann.get("/v1/stats", expect_errors=True)).status_int == 200 and r,
            what="the route answering again",
        )
        assert [e["act"] for e in res.json["logs"]] == ["login", "register"]
    finally:
        mongo.stop()


def test_embedded_default_aggregates_in_process(memory_settings, make_app, new_user):
    ann = new_user(app=make_app(memory_settings))
    create(ann)
    res = wait_for(lambda: (r := ann.get("/v1/stats")).json["room"] == 1 and r, what="the in-process run")
    assert res.json["user"] == 1 and res.json["updated"] is not None


def test_aggregation_waits_for_ids_that_commit_late(plain_store):
    plain_store.activity.record("ann@example.com", "register")
    late = next_value(plain_store.db, "activity")  # allocated; its transaction has not committed yet
    plain_store.activity.record("ann@example.com", "message", "hi")
    snapshot = plain_store.stats.aggregate()
    assert snapshot["counts"] == {"register": 1, "message": 1}
    assert [i for i, _ in snapshot["missing"]] == [late] and snapshot["mark"] == 3
    plain_store.db.activity.insert_one({"_id": late, "u": "ann@example.com", "act": "create", "m": "r", "t": now()})
    snapshot = plain_store.stats.aggregate()
    assert snapshot["counts"] == {"register": 1, "message": 1, "create": 1} and snapshot["missing"] == []
    assert snapshot["runs"] == 2 and snapshot["version"] == 2


def test_aggregation_gives_up_on_ids_of_aborted_transactions(plain_store):
    next_value(plain_store.db, "activity")  # a transaction that took an id and aborted
    plain_store.activity.record("ann@example.com", "register")
    assert len(plain_store.stats.aggregate()["missing"]) == 1
    snapshot = plain_store.stats.aggregate(gap_seconds=0)
    assert snapshot["missing"] == [] and snapshot["counts"] == {"register": 1} and snapshot["mark"] == 2


def test_concurrent_runs_count_every_entry_once(plain_store, settings):
    fill(plain_store, 3 * CHUNK + 17)
    others = [Store(settings.mongodb_uri) for _ in range(3)]
    try:
        threads = [threading.Thread(target=store.stats.aggregate) for store in others]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for store in others:
            store.close()
    snapshot = plain_store.stats.aggregate()
    assert snapshot["counts"] == {"message": 3 * CHUNK + 17} and snapshot["mark"] == 3 * CHUNK + 17
