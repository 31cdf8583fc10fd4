"""Accounts people can manage: password change, sessions, reset by email, export, deletion, webhooks."""

from dataclasses import replace
from datetime import timedelta

import pymongo
import pytest
import requests
import webtest

from store.db import now
from store.sessions import session_key
from tests.helpers import PASSWORD, TEST_DB, Web

NEW_PASSWORD = "a brand new passphrase"


def second_session(client) -> webtest.TestApp:
    """Another login of the client's user: a second browser."""
    other = webtest.TestApp(client.app)
    other.post_json("/auth/login", {"username": client.user, "password": PASSWORD}, status=200)
    other.user = client.user
    return other


def database(settings):
    return pymongo.MongoClient(settings.mongodb_uri, tz_aware=True)[TEST_DB]


# --- password change ---------------------------------------------------------------------------------------


def test_password_change_ends_every_other_session(new_user):
    ann = new_user()
    laptop, phone = second_session(ann), second_session(ann)
    res = ann.post_json("/auth/password", {"current": PASSWORD, "password": NEW_PASSWORD}, status=200)
    assert res.json == {"user": ann.user, "ended": 2}
    ann.get("/auth/me", status=200)  # this session stays
    laptop.get("/auth/me", status=401)
    phone.get(f"/v1/room/{ann.user}", status=401)
    fresh = webtest.TestApp(ann.app)
    fresh.post_json("/auth/login", {"username": ann.user, "password": PASSWORD}, status=401)
    fresh.post_json("/auth/login", {"username": ann.user, "password": NEW_PASSWORD}, status=200)


def test_a_wrong_current_password_is_401_and_counted_like_a_failed_login(make_app, settings):
    app = make_app(replace(settings, login_rate=(3, 60)))
    ann = webtest.TestApp(app)
    ann.post_json("/auth/register", {"username": "ann@example.com", "password": PASSWORD}, status=201)
    for _ in range(3):
        res = ann.post_json("/auth/password", {"current": "wrong password", "password": NEW_PASSWORD}, status=401)
        assert res.json == {"error": "invalid username or password"}
    res = ann.post_json("/auth/password", {"current": PASSWORD, "password": NEW_PASSWORD}, status=429)
    assert int(res.headers["Retry-After"]) >= 1
    login = {"username": "ann@example.com", "password": PASSWORD}
    webtest.TestApp(app).post_json("/auth/login", login, status=429)  # the same limiter key as login


def test_password_change_needs_a_session(client):
    client.post_json("/auth/password", {"current": PASSWORD, "password": NEW_PASSWORD}, status=401)


@pytest.mark.parametrize(
    "body",
    [
        {"current": {"$ne": None}, "password": NEW_PASSWORD},
        {"current": PASSWORD, "password": {"$gt": ""}},
        {"current": PASSWORD, "password": "short"},
        {"current": PASSWORD, "password": "x" * 1025},
        {"current": PASSWORD, "password": "nul\x00inside it"},
        {"current": [PASSWORD], "password": NEW_PASSWORD},
        {"current": PASSWORD},
        {"password": NEW_PASSWORD},
        {"current": 12345678, "password": NEW_PASSWORD},
    ],
)
def test_password_change_refuses_bad_fields_and_changes_nothing(new_user, body):
    ann = new_user()
    ann.post_json("/auth/password", body, status=400)
    webtest.TestApp(ann.app).post_json("/auth/login", {"username": ann.user, "password": PASSWORD}, status=200)


# --- sessions --------------------------------------------------------------------------------------------


def test_sessions_list_names_each_by_a_public_id(new_user, settings):
    ann = new_user()
    phone = webtest.TestApp(ann.app, extra_environ={"HTTP_USER_AGENT": "Phone/1.0", "REMOTE_ADDR": "198.51.100.7"})
    phone.post_json("/auth/login", {"username": ann.user, "password": PASSWORD}, status=200)
    listed = ann.get("/v1/sessions", status=200).json
    assert [set(s) for s in listed] == [{"id", "created", "last_seen", "address", "agent", "current"}] * 2
    assert [s["current"] for s in listed] == [True, False]
    assert listed[1]["agent"] == "Phone/1.0" and listed[1]["address"] == "198.51.100.7"
    tokens = {ann.cookies["session"], phone.cookies["session"]}
    secrets_ = tokens | {session_key(t) for t in tokens}
    assert not {s["id"] for s in listed} & secrets_
    assert len({s["id"] for s in listed}) == 2
    new_user().get("/v1/sessions", status=200)  # someone else's list holds only their own
    assert len(phone.get("/v1/sessions").json) == 2


def test_last_seen_is_written_at_most_once_a_minute(new_user, settings):
    ann = new_user()
    key = session_key(ann.cookies["session"])
    sessions = database(settings).sessions
    recent = now() - timedelta(seconds=30)
    sessions.update_one({"_id": key}, {"$set": {"last_seen": recent}})
    ann.get("/auth/me", status=200)
    assert sessions.find_one({"_id": key})["last_seen"] == recent  # seen 30 s ago: no write
    old = now() - timedelta(seconds=90)
    sessions.update_one({"_id": key}, {"$set": {"last_seen": old}})
    ann.get("/auth/me", status=200)
    seen = sessions.find_one({"_id": key})["last_seen"]
    assert seen > now() - timedelta(seconds=5)


def test_ending_one_session_by_id(new_user):
    ann, bob = new_user(), new_user()
    phone = second_session(ann)
    theirs = next(s["id"] for s in ann.get("/v1/sessions").json if not s["current"])
    bob.delete(f"/v1/sessions/{theirs}", status=404)  # not bob's: as if unknown
    phone.get("/auth/me", status=200)
    ann.delete(f"/v1/sessions/{theirs}", status=204)
    phone.get("/auth/me", status=401)
    ann.delete(f"/v1/sessions/{theirs}", status=404)
    ann.delete("/v1/sessions/nonexistent", status=404)
    ann.delete("/v1/sessions/" + "x" * 300, status=404)
    assert [s["current"] for s in ann.get("/v1/sessions").json] == [True]


def test_ending_every_other_session(new_user):
    ann = new_user()
    others = [second_session(ann) for _ in range(3)]
    bob = new_user()
    assert ann.delete("/v1/sessions", status=200).json == {"ended": 3}
    for other in others:
        other.get("/auth/me", status=401)
    ann.get("/auth/me", status=200)
    bob.get("/auth/me", status=200)
    assert ann.delete("/v1/sessions", status=200).json == {"ended": 0}


def test_sessions_end_everywhere_across_web_processes(settings, tmp_path):
    """Two web processes: a password change on one ends the user's other sessions on both, at once."""
    webs = [Web(settings, tmp_path), Web(settings, tmp_path)]
    try:
        first, second = webs
        ann = requests.Session()
        login = {"username": "ann@example.com", "password": PASSWORD}
        assert ann.post(first.url + "/auth/register", json=login, timeout=10).status_code == 201
        others = []
        for web in webs:
            other = requests.Session()
            assert other.post(web.url + "/auth/login", json=login, timeout=10).status_code == 200
            others.append(other)
        for other, web in zip(others, webs, strict=True):
            assert other.get(web.url + "/auth/me", timeout=10).status_code == 200
        change = {"current": PASSWORD, "password": NEW_PASSWORD}
        assert ann.post(first.url + "/auth/password", json=change, timeout=10).status_code == 200
        for other in others:  # immediately: no process caches a session
            for web in webs:
                assert other.get(web.url + "/auth/me", timeout=10).status_code == 401
        assert ann.get(second.url + "/auth/me", timeout=10).status_code == 200
        # And the list-and-end routes too: a session ended through one process is gone on the other.
        phone = requests.Session()
        assert phone.post(second.url + "/auth/login", json={**login, "password": NEW_PASSWORD}).status_code == 200
        listed = ann.get(second.url + "/v1/sessions", timeout=10).json()
        theirs = next(s["id"] for s in listed if not s["current"])
        assert ann.delete(first.url + f"/v1/sessions/{theirs}", timeout=10).status_code == 204
        assert phone.get(second.url + "/auth/me", timeout=10).status_code == 401
    finally:
        for web in webs:
            web.stop()
