"""Abuse limits: each is configurable, answers 429 with an honest Retry-After, limits only its own key,
and lets the client through again once Retry-After has passed; shared through Redis or in-process.
Open streams per user are held, not counted in a window: a stream that ends gives its place back."""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from wsgiref.util import setup_testing_defaults

import pytest
import webtest

from routes.sse import SLOT_GRACE_SECONDS
from settings import from_env
from tests.helpers import PASSWORD, act, create

WINDOW = 3  # seconds: long enough to reach the limit on a busy machine, short enough to wait out
COUNT = 2


@dataclass
class Limit:
    setting: str
    env: str
    error: str
    attempt: Callable  # (app, users: dict, key: "a" or "b", n) -> TestResponse, n unique per attempt
    allowed: int  # the status of an attempt under the limit


def client(app, address: str) -> webtest.TestApp:
    return webtest.TestApp(app, extra_environ={"REMOTE_ADDR": address})


def failed_login_for_user(app, users, key, n):
    return client(app, f"192.0.2.{n}").post_json(  # a new address each time: only the username counts
        "/auth/login", {"username": f"{key}@example.com", "password": "wrong password"}, expect_errors=True
    )


def failed_login_from_address(app, users, key, n):
    return client(app, f"203.0.113.{ord(key)}").post_json(
        "/auth/login", {"username": f"{key}{n}@example.com", "password": "wrong password"}, expect_errors=True
    )


def registration_from_address(app, users, key, n):
    return client(app, f"203.0.113.{ord(key)}").post_json(
        "/auth/register",
        {"username": f"{key}{n}-{time.monotonic_ns()}@example.com", "password": PASSWORD},
        expect_errors=True,
    )


def message_from_user(app, users, key, n):
    if key not in users:  # a user with a room of their own
        user = users[key] = client(app, "198.51.100.1")
        email = f"{key}@example.com"
        user.post_json("/auth/register", {"username": email, "password": PASSWORD}, status=201)
        user.room = user.post_json("/v1/room", {"userid": email, "action": "enter", "roomid": None}).json["roomid"]
    return users[key].post_json(f"/v1/logs/{users[key].room}", {"m": f"message {n}"}, expect_errors=True)


def upload_from_user(app, users, key, n):
    """Not an image (415), so no worker is needed: every attempt counts, before the body is read."""
    if key not in users:
        users[key] = client(app, "198.51.100.1")
        users[key].post_json("/auth/register", {"username": f"{key}@example.com", "password": PASSWORD}, status=201)
    return users[key].post("/v1/image", upload_files=[("file", "a.png", b"not an image")], expect_errors=True)


LIMITS = [
    Limit("login_rate", "RATE_LOGIN", "too many failed logins", failed_login_for_user, 401),
    Limit("login_rate_per_address", "RATE_LOGIN_ADDRESS", "too many failed logins", failed_login_from_address, 401),
    Limit("register_rate", "RATE_REGISTER", "too many registrations from this address", registration_from_address, 201),
    Limit("message_rate", "RATE_MESSAGES", "too many messages", message_from_user, 201),
    Limit("upload_rate", "RATE_UPLOADS", "too many uploads", upload_from_user, 415),
]


@pytest.mark.parametrize("shared", [True, False], ids=["redis", "in-process"])
@pytest.mark.parametrize("limit", LIMITS, ids=lambda limit: limit.setting)
def test_each_limit_answers_429_with_an_honest_retry_after(make_app, settings, limit, shared):
    settings = replace(settings, **{limit.setting: (COUNT, WINDOW)}, redis_url=settings.redis_url if shared else None)
    app, users = make_app(settings), {}
    for n in range(COUNT):
        assert limit.attempt(app, users, "a", n).status_int == limit.allowed
    assert limit.attempt(app, users, "b", 0).status_int == limit.allowed  # another key is not limited
    time.sleep(0.6)  # into the window's second, where rounding the time left down would be dishonest
    refused = limit.attempt(app, users, "a", COUNT)
    retry_after = int(refused.headers["Retry-After"])
    assert refused.status_int == 429 and 1 <= retry_after <= WINDOW
    assert f"{limit.error}; retry after {retry_after} s" in refused.text  # JSON, or the HTML page on /v1/image
    time.sleep(retry_after)
    assert limit.attempt(app, users, "a", COUNT + 1).status_int == limit.allowed


@pytest.mark.parametrize("limit", LIMITS, ids=lambda limit: limit.setting)
def test_each_limit_is_set_from_the_environment(limit):
    assert getattr(from_env({limit.env: "7/60"}), limit.setting) == (7, 60)


@pytest.mark.parametrize("value", ["0/10", "5/0", "-1/10", "5", "5/", "/10", "five/10", "5/10s"])
def test_a_rate_that_would_not_limit_or_not_parse_stops_the_start(value):
    with pytest.raises(SystemExit, match="RATE_MESSAGES"):
        from_env({"RATE_MESSAGES": value})


def open_stream(app, client, roomid: str):
    """Start an event stream through the WSGI interface and leave it open: (status, headers, first chunk, body)."""
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": f"/v1/events/{roomid}",
        "HTTP_COOKIE": f"session={client.cookies['session']}",
    }
    setup_testing_defaults(environ)
    answer = {}
    body = app(
        environ, lambda status, headers, exc_info=None: answer.update(status=int(status[:3]), headers=dict(headers))
    )
    return answer["status"], answer["headers"], next(iter(body), b""), body


@pytest.mark.parametrize("shared", [True, False], ids=["redis", "in-process"])
def test_open_streams_per_user_are_limited(make_app, settings, new_user, shared):
    settings = replace(settings, streams_per_user=COUNT, redis_url=settings.redis_url if shared else None)
    app = make_app(settings)
    ann, bob = new_user(app=app), new_user(app=app)
    roomid = create(ann)
    act(bob, "enter", roomid)
    held = [open_stream(app, ann, roomid) for _ in range(COUNT)]
    assert [status for status, *_ in held] == [200] * COUNT
    status, headers, first, _ = open_stream(app, ann, roomid)
    retry_after = int(headers["Retry-After"])
    assert status == 429 and 1 <= retry_after <= settings.stream_max_seconds + SLOT_GRACE_SECONDS
    assert json.loads(first) == {"error": f"too many open streams; retry after {retry_after} s"}
    held.append(open_stream(app, bob, roomid))
    assert held[-1][0] == 200  # another user is not limited
    held.pop(0)[3].close()  # a stream that ends gives its place back at once
    held.append(open_stream(app, ann, roomid))
    assert held[-1][0] == 200
    for *_, body in held:
        body.close()


def test_streams_per_user_is_set_from_the_environment():
    assert from_env({"STREAMS_PER_USER": "3"}).streams_per_user == 3
    for value in ("0", "-1", "three"):
        with pytest.raises(SystemExit, match="STREAMS_PER_USER"):
            from_env({"STREAMS_PER_USER": value})
