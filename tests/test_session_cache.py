"""The session cache is coherent: every way a session ends takes effect on every web process within a second,
and a process whose Redis subscription is lost (or not yet confirmed) reads the database instead."""

import secrets
import time
from dataclasses import replace

import pymongo
import pytest
import redis
import requests

from store.resets import Resets
from store.sessions import TRUST_SECONDS, SessionCache, session_key
from tests.helpers import PASSWORD, Web

DB = "chat_test_sessions"
NEW_PASSWORD = "another horse battery"
ADMIN = "admin@example.com"


@pytest.fixture(scope="module")
def webs(mongo_server, redis_server, tmp_path_factory):
    """Two real web processes on one database and one Redis, like two web dynos."""
    from settings import Settings

    with pymongo.MongoClient(mongo_server.uri(DB)) as client:
        client.drop_database(DB)
    tmp = tmp_path_factory.mktemp("session-cache")
    settings = Settings(mongodb_uri=mongo_server.uri(DB), redis_url=redis_server.url, data_dir=tmp)
    settings = replace(settings, admin_users=frozenset({ADMIN}))
    pair = [Web(settings, tmp), Web(settings, tmp)]
    yield pair
    for web in pair:
        web.stop()


@pytest.fixture(scope="module")
def db(mongo_server):
    with pymongo.MongoClient(mongo_server.uri(DB)) as client:
        yield client[DB]


def login(web, email: str, password: str = PASSWORD, register: bool = False) -> requests.Session:
    http = requests.Session()
    path = "/auth/register" if register else "/auth/login"
    res = http.post(web.url + path, json={"username": email, "password": password}, timeout=10)
    assert res.status_code in (200, 201), res.text
    return http


def me(web, token: str) -> int:
    return requests.get(web.url + "/auth/me", cookies={"session": token}, timeout=10).status_code


def cached_on(web, token: str) -> None:
    """Make the process hold the session: read once its subscription is confirmed (its first ping answered)."""
    assert me(web, token) == 200
    time.sleep(TRUST_SECONDS / 2)
    assert me(web, token) == 200


def ended_within_a_second(web, token: str) -> float:
    """Seconds until the process refuses the session; fails past one second."""
    start = time.monotonic()
    while me(web, token) != 401:
        assert time.monotonic() - start < 1.0, "the session still works on the other process after a second"
        time.sleep(0.02)
    return time.monotonic() - start


def logout(actor, victim, first, db):
    actor.get(first.url + "/auth/logout", timeout=10).raise_for_status()


def password_change(actor, victim, first, db):
    change = {"current": PASSWORD, "password": NEW_PASSWORD}
    assert actor.post(first.url + "/auth/password", json=change, timeout=10).json()["ended"] >= 1


def end_one(actor, victim, first, db):
    listed = actor.get(first.url + "/v1/sessions", timeout=10).json()
    theirs = next(s["id"] for s in listed if not s["current"])
    assert actor.delete(first.url + f"/v1/sessions/{theirs}", timeout=10).status_code == 204


def end_others(actor, victim, first, db):
    assert actor.delete(first.url + "/v1/sessions", timeout=10).json()["ended"] >= 1


def reset_confirm(actor, victim, first, db):
    email = db.sessions.find_one({"_id": session_key(victim)})["u"]
    token = Resets(db).issue(email)
    res = requests.post(first.url + "/auth/reset/confirm", json={"token": token, "password": NEW_PASSWORD}, timeout=10)
    assert res.status_code == 200, res.text


def deactivation(actor, victim, first, db):
    email = db.sessions.find_one({"_id": session_key(victim)})["u"]
    admin = login(first, ADMIN) if db.users.find_one({"_id": ADMIN}) else login(first, ADMIN, register=True)
    res = admin.post(first.url + f"/v1/admin/users/{email}/deactivate", timeout=10)
    assert res.status_code == 200, res.text


def account_deletion(actor, victim, first, db):
    res = actor.delete(first.url + "/v1/profile", json={"password": PASSWORD}, timeout=10)
    assert res.status_code == 200, res.text


@pytest.mark.parametrize(
    "end", [logout, password_change, end_one, end_others, reset_confirm, deactivation, account_deletion]
)
def test_an_ended_session_ends_on_every_process_within_a_second(webs, db, end):
    first, second = webs
    email = f"{end.__name__.replace('_', '-')}-{secrets.token_hex(3)}@example.com"
    actor = login(first, email, register=True)
    # The session that must end: the actor's own for a logout, else the same user's session on the other process.
    victim = actor.cookies["session"] if end is logout else login(second, email).cookies["session"]
    for web in webs:
        cached_on(web, victim)
    end(actor, victim, first, db)
    assert me(first, victim) == 401  # where it happened: at once
    ended_within_a_second(second, victim)


def answers_from_cache(web, db, email: str) -> bool:
    """A fresh session, held by the process, then deleted behind its back (no message): still accepted?"""
    token = login(web, email).cookies["session"]
    cached_on(web, token)
    db.sessions.delete_one({"_id": session_key(token)})
    return me(web, token) == 200


def eventually_answers_from_cache(web, db, email: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not answers_from_cache(web, db, email):
        assert time.monotonic() < deadline, f"the cache did not answer within {seconds} s"


def test_a_lost_subscription_bypasses_the_cache(settings, redis_server, tmp_path):
    """Sessions deleted behind the cache's back (no message, as if one were lost): the cache answers while
    its subscription stands, is emptied when it is lost, is bypassed while it stays lost, and is used again
    once it is back."""
    web = Web(settings, tmp_path)
    db = pymongo.MongoClient(settings.mongodb_uri).get_default_database()
    email = f"lost-{secrets.token_hex(3)}@example.com"
    login(web, email, register=True)
    try:
        eventually_answers_from_cache(web, db, email)  # the subscription stands: the cache is used

        # Killed (Redis closes the subscription): the cache is emptied and the session read again.
        stale = login(web, email).cookies["session"]
        cached_on(web, stale)
        db.sessions.delete_one({"_id": session_key(stale)})
        assert me(web, stale) == 200
        redis.Redis.from_url(settings.redis_url).client_kill_filter(_type="pubsub")
        ended_within_a_second(web, stale)

        # Redis away: within a second the cache is bypassed, every lookup reads the database.
        eventually_answers_from_cache(web, db, email)
        held = login(web, email).cookies["session"]
        cached_on(web, held)
        redis_server.stop()
        time.sleep(TRUST_SECONDS)
        db.sessions.delete_one({"_id": session_key(held)})
        assert me(web, held) == 401
        assert not answers_from_cache(web, db, email)  # sessions still work without Redis, uncached

        # Back: once the subscription is confirmed again, the cache answers again.
        redis_server.start()
        eventually_answers_from_cache(web, db, email)
    finally:
        if redis_server.proc.poll() is not None:
            redis_server.start()
        web.stop()
        db.client.close()


def session(key: str, user: str = "ann@example.com") -> dict:
    return {"_id": key, "u": user, "expires": None, "last_seen": None}


def test_a_read_that_raced_an_ending_is_not_kept():
    """A session read before an ending committed, arriving after its message: dropped, not stored."""
    cache = SessionCache()
    epoch = cache.epoch()  # the read begins...
    cache.forget(user="ann@example.com")  # ...the ending commits and is heard...
    cache.put(session("k"), epoch)  # ...then the read's (old) answer arrives
    assert cache.get("k") is None
    cache.put(session("k"), cache.epoch())
    assert cache.get("k") is not None


def test_the_cache_is_bounded_in_size_and_age():
    cache = SessionCache(size=2, seconds=0.2)
    for key in ("a", "b", "c"):
        cache.put(session(key), cache.epoch())
    assert [cache.get(key) is not None for key in ("a", "b", "c")] == [False, True, True]  # least recently used out
    time.sleep(0.25)
    assert cache.get("c") is None  # too old: read again
