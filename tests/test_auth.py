"""Accounts and sessions: /auth/register, /auth/login, /auth/logout."""

from dataclasses import replace

import pymongo
import pytest
import webtest

from tests.helpers import PASSWORD, TEST_DB


def register(client, username="ann@example.com", password=PASSWORD, status=201):
    return client.post_json("/auth/register", {"username": username, "password": password}, status=status)


def login(client, username="ann@example.com", password=PASSWORD, status=200, **kw):
    return client.post_json("/auth/login", {"username": username, "password": password}, status=status, **kw)


def session_cookie(res) -> str:
    return next(h for k, h in res.headerlist if k == "Set-Cookie" and h.startswith("session="))


def test_register_logs_in_and_normalises_the_email(client):
    res = register(client, "  Ann@Example.COM ")
    assert res.json == {"user": "ann@example.com"}
    assert client.get("/v1/room/ann@example.com", status=200).json["join_rooms"] == []


def test_register_twice_is_409(client):
    register(client)
    res = register(webtest.TestApp(client.app), "ANN@example.com", status=409)
    assert res.json == {"error": "this email is already registered"}


@pytest.mark.parametrize(
    "username, password",
    [
        ("not-an-email", PASSWORD),
        ("", PASSWORD),
        ("a" * 250 + "@x.io", PASSWORD),
        ("ann@example.com", "short"),
        ("ann@example.com", "x" * 1025),
        ({"$ne": None}, PASSWORD),
        (["ann@example.com"], PASSWORD),
        (42, PASSWORD),
        ("ann@example.com", {"$gt": ""}),
        ("ann@example.com", None),
        ("ann\x00@example.com", PASSWORD),
    ],
)
def test_register_rejects_bad_fields(client, username, password):
    res = client.post_json("/auth/register", {"username": username, "password": password}, status=400)
    assert "error" in res.json


def test_register_accepts_a_form_and_unicode_password(client):
    res = client.post("/auth/register", {"username": "bo@example.com", "password": "pässwörd-ünïcode-🔑"}, status=201)
    assert res.json == {"user": "bo@example.com"}
    login(webtest.TestApp(client.app), "bo@example.com", "pässwörd-ünïcode-🔑")


def test_password_is_stored_only_as_a_slow_salted_hash(client, settings):
    register(client)
    register(webtest.TestApp(client.app), "bob@example.com")
    with pymongo.MongoClient(settings.mongodb_uri) as mc:
        ann, bob = (
            mc[TEST_DB].users.find_one({"_id": "ann@example.com"}),
            mc[TEST_DB].users.find_one({"_id": "bob@example.com"}),
        )
    assert PASSWORD not in str(ann) and PASSWORD.encode() not in repr(ann).encode()
    assert ann["hash"].startswith("scrypt$16384$8$1$")
    assert ann["hash"] != bob["hash"]  # salted


def test_login_issues_a_fresh_token_each_time(client):
    register(client)
    first = session_cookie(login(client))
    second = session_cookie(login(client))
    assert first != second
    token = first.split(";")[0].split("=", 1)[1]
    assert len(token) >= 22  # at least 128 bits


def test_cookie_flags(client):
    res = register(client)
    cookie = session_cookie(res).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "secure" not in cookie
    res = login(webtest.TestApp(client.app), headers={"X-Forwarded-Proto": "https"})
    assert "secure" in session_cookie(res).lower()


def test_wrong_password_and_unknown_user_look_the_same(client):
    register(client)
    wrong = login(client, password="wrong password", status=401)
    unknown = login(client, username="nobody@example.com", status=401)
    assert wrong.json == unknown.json == {"error": "invalid username or password"}


@pytest.mark.parametrize(
    "body",
    [
        {"username": {"$ne": None}, "password": {"$ne": None}},
        {"username": "ann@example.com"},
        {"password": PASSWORD},
        {"username": ["ann@example.com"], "password": PASSWORD},
    ],
)
def test_login_malformed_is_400(client, body):
    register(client)
    client.post_json("/auth/login", body, status=400)


def test_login_malformed_json_and_non_object(client):
    client.post("/auth/login", "{not json", content_type="application/json", status=400)
    client.post("/auth/login", "[1, 2]", content_type="application/json", status=400)
    client.post(
        "/auth/login", b"username=\xff\xfe&password=x", content_type="application/x-www-form-urlencoded", status=400
    )


def test_logout_destroys_the_session(client):
    register(client)
    cookie = client.cookies["session"]
    res = client.get("/auth/logout", status=200)
    assert res.json == {"user": None}
    assert "session" not in client.cookies
    replay = webtest.TestApp(client.app)
    replay.set_cookie("session", cookie)
    replay.get("/v1/room/ann@example.com", status=401)
    replay.post("/auth/logout", status=200)


def test_logout_without_a_session_is_200(client):
    assert client.get("/auth/logout", status=200).json == {"user": None}
    assert client.post("/auth/logout", status=200).json == {"user": None}


def test_me_names_the_session_user(client):
    assert client.get("/auth/me", status=401).json == {"error": "log in first"}
    register(client, "Ann@Example.com")
    res = client.get("/auth/me", status=200)
    assert res.json == {"user": "ann@example.com", "name": "ann", "avatar": None}
    assert res.headers["Cache-Control"] == "no-store"
    client.get("/auth/logout")
    client.get("/auth/me", status=401)


def test_failed_logins_for_one_user_are_throttled(make_app, settings):
    app = webtest.TestApp(make_app(replace(settings, login_rate=(3, 60))))
    register(app)
    for _ in range(3):
        login(app, password="wrong password", status=401)
    res = login(app, status=429)  # even the right password waits
    assert 1 <= int(res.headers["Retry-After"]) <= 60
    login(app, username="other@example.com", status=401)  # other usernames are not blocked


def test_failed_logins_from_one_address_are_throttled(make_app, memory_settings):
    app = webtest.TestApp(
        make_app(replace(memory_settings, login_rate_per_address=(4, 60))), extra_environ={"REMOTE_ADDR": "203.0.113.9"}
    )
    for i in range(4):
        login(app, username=f"u{i}@example.com", password="wrong password", status=401)
    res = login(app, username="fresh@example.com", status=429)
    assert int(res.headers["Retry-After"]) >= 1


def test_registrations_per_address_are_limited(make_app, settings):
    app = webtest.TestApp(make_app(replace(settings, register_rate=(2, 60))))
    register(app, "a1@example.com")
    register(app, "a2@example.com")
    res = register(app, "a3@example.com", status=429)
    assert "Retry-After" in res.headers


def test_oversize_body_is_413_before_parsing(client):
    body = '{"username": "' + "a" * (70 * 1024) + '"}'
    res = client.post("/auth/login", body, content_type="application/json", status=413)
    assert "error" in res.json


def test_cross_site_post_is_403(client):
    res = client.post_json(
        "/auth/register",
        {"username": "ann@example.com", "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
        status=403,
    )
    assert res.json == {"error": "cross-site request refused"}
    client.post_json(
        "/auth/register",
        {"username": "ann@example.com", "password": PASSWORD},
        headers={"Origin": "http://localhost:80"},
        status=201,
    )


def test_garbage_cookie_is_401(client):
    client.set_cookie("session", "garbage" * 10)
    client.get("/v1/room/ann@example.com", status=401)
