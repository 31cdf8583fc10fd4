"""Accounts people can manage: password change, sessions, reset by email, export, deletion, webhooks."""

import hashlib
import json
import time
from dataclasses import replace
from datetime import timedelta
from urllib.parse import quote

import pymongo
import pytest
import requests
import webtest

from scripts.servers import Worker
from store.db import now
from store.embedded import free_port
from store.export import RANGE
from store.sessions import session_key
from tests.helpers import PASSWORD, TEST_DB, Inbox, Web, act, assert_clean, create, outbox_letters, reset_token

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


def within_a_second(check) -> bool:
    """Whether check() comes true within a second (asked again every 20 ms)."""
    deadline = time.monotonic() + 1.0
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_sessions_end_everywhere_across_web_processes(settings, tmp_path):
    """Two web processes: a password change on one ends the user's other sessions on both within a second."""
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
        for other in others:  # within a second on every process (each caches sessions: tests/test_session_cache.py)
            for web in webs:
                assert within_a_second(lambda o=other, w=web: o.get(w.url + "/auth/me", timeout=10).status_code == 401)
        assert ann.get(second.url + "/auth/me", timeout=10).status_code == 200
        # And the list-and-end routes too: a session ended through one process is gone on the other.
        phone = requests.Session()
        assert phone.post(second.url + "/auth/login", json={**login, "password": NEW_PASSWORD}).status_code == 200
        listed = ann.get(second.url + "/v1/sessions", timeout=10).json()
        theirs = next(s["id"] for s in listed if not s["current"])
        assert ann.delete(first.url + f"/v1/sessions/{theirs}", timeout=10).status_code == 204
        assert within_a_second(lambda: phone.get(second.url + "/auth/me", timeout=10).status_code == 401)
    finally:
        for web in webs:
            web.stop()


# --- reset by email -------------------------------------------------------------------------------------


def confirm(client, token, password=NEW_PASSWORD, status=200):
    return client.post_json("/auth/reset/confirm", {"token": token, "password": password}, status=status)


@pytest.fixture
def embedded(make_app, memory_settings):
    """An app with no Redis: eager tasks, and without SMTP_URL the mail goes to DATA_DIR/outbox."""
    return make_app(memory_settings), memory_settings


def test_reset_without_smtp_goes_to_the_outbox_and_logs_in(embedded, settings):
    app, cfg = embedded
    ann = webtest.TestApp(app)
    ann.post_json("/auth/register", {"username": "ann@example.com", "password": PASSWORD}, status=201)
    laptop = webtest.TestApp(app)
    laptop.post_json("/auth/login", {"username": "ann@example.com", "password": PASSWORD}, status=200)
    anyone = webtest.TestApp(app)
    assert anyone.post_json("/auth/reset", {"username": "ann@example.com"}, status=202).json == {"queued": True}
    assert anyone.post_json("/auth/reset", {"username": "nobody@example.com"}, status=202).json == {"queued": True}
    (letter,) = outbox_letters(cfg.data_dir)  # nobody@ has no account: no letter
    assert letter["To"] == "ann@example.com" and letter["From"] == cfg.mail_from
    token = reset_token(letter)
    assert len(token) >= 22  # at least 128 bits
    assert f"http://localhost:{cfg.port}/#reset={token}" in letter.get_content()
    stored = database(settings).resets.find_one({"_id": "ann@example.com"})
    assert token not in str(stored) and stored["hash"] == hashlib.sha256(token.encode()).hexdigest()
    res = confirm(anyone, token)
    assert res.json == {"user": "ann@example.com"}
    anyone.get("/auth/me", status=200)  # logged in by the new session cookie
    ann.get("/auth/me", status=401)
    laptop.get("/auth/me", status=401)
    confirm(webtest.TestApp(app), token, status=400)  # single use
    webtest.TestApp(app).post_json("/auth/login", {"username": "ann@example.com", "password": NEW_PASSWORD})


def test_only_the_newest_reset_link_works(embedded):
    app, cfg = embedded
    client = webtest.TestApp(app)
    client.post_json("/auth/register", {"username": "ann@example.com", "password": PASSWORD}, status=201)
    client.post_json("/auth/reset", {"username": "ann@example.com"}, status=202)
    client.post_json("/auth/reset", {"username": "ann@example.com"}, status=202)
    first, second = (reset_token(letter) for letter in outbox_letters(cfg.data_dir))
    assert first != second
    res = confirm(client, first, status=400)
    assert "replaced" in res.json["error"]
    confirm(client, second)


def test_an_expired_reset_link_is_400(embedded, settings):
    app, cfg = embedded
    client = webtest.TestApp(app)
    client.post_json("/auth/register", {"username": "ann@example.com", "password": PASSWORD}, status=201)
    client.post_json("/auth/reset", {"username": "ann@example.com"}, status=202)
    (letter,) = outbox_letters(cfg.data_dir)
    resets = database(settings).resets
    assert resets.find_one()["expires"] - resets.find_one()["created"] == timedelta(minutes=30)
    resets.update_one({}, {"$set": {"expires": now() - timedelta(seconds=1)}})
    confirm(client, reset_token(letter), status=400)
    webtest.TestApp(app).post_json("/auth/login", {"username": "ann@example.com", "password": PASSWORD}, status=200)


def test_reset_requests_are_limited_per_email_and_per_address(make_app, memory_settings):
    app = make_app(replace(memory_settings, reset_rate=(2, 600), reset_rate_per_address=(3, 600)))
    here = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "198.51.100.1"})
    elsewhere = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "198.51.100.2"})
    for _ in range(2):
        here.post_json("/auth/reset", {"username": "ann@example.com"}, status=202)
    res = elsewhere.post_json("/auth/reset", {"username": "ann@example.com"}, status=429)  # per email
    assert 1 <= int(res.headers["Retry-After"]) <= 600
    here.post_json("/auth/reset", {"username": "bob@example.com"}, status=202)
    res = here.post_json("/auth/reset", {"username": "carl@example.com"}, status=429)  # per address
    assert "Retry-After" in res.headers


@pytest.mark.parametrize(
    "path, body",
    [
        ("/auth/reset", {"username": {"$ne": None}}),
        ("/auth/reset", {"username": ["ann@example.com"]}),
        ("/auth/reset", {"username": "ann\x00@example.com"}),
        ("/auth/reset", {}),
        ("/auth/reset/confirm", {"token": {"$ne": None}, "password": NEW_PASSWORD}),
        ("/auth/reset/confirm", {"token": "x" * 5000, "password": NEW_PASSWORD}),
        ("/auth/reset/confirm", {"token": "a" * 43, "password": "short"}),
        ("/auth/reset/confirm", {"token": ["a" * 43], "password": NEW_PASSWORD}),
        ("/auth/reset/confirm", {"token": "a" * 43, "password": {"$gt": ""}}),
        ("/auth/reset/confirm", {"password": NEW_PASSWORD}),
    ],
)
def test_reset_routes_refuse_bad_fields_and_store_nothing(embedded, settings, path, body):
    app, cfg = embedded
    webtest.TestApp(app).post_json(path, body, status=400)
    assert database(settings).resets.count_documents({}) == 0
    assert outbox_letters(cfg.data_dir) == []
    assert_clean(database(settings))


def test_reset_mail_goes_through_smtp_from_a_worker(settings, make_app):
    """A real worker sends through a real SMTP server; the link in the received letter logs in."""
    inbox = Inbox()
    cfg = replace(settings, smtp_url=inbox.url, mail_from="noreply@chat.example", public_url="https://chat.example")
    worker = Worker(cfg)
    try:
        client = webtest.TestApp(make_app(cfg))
        client.post_json("/auth/register", {"username": "ann@example.com", "password": PASSWORD}, status=201)
        timings = {"ann@example.com": [], "nobody@example.com": []}
        for email in timings:
            for _ in range(2):
                started = time.perf_counter()
                client.post_json("/auth/reset", {"username": email}, status=202)
                timings[email].append(time.perf_counter() - started)
        letters = inbox.wait(2)
        time.sleep(0.5)
        assert len(letters) == 2 and {str(letter["To"]) for letter in letters} == {"ann@example.com"}
        assert max(max(t) for t in timings.values()) < 1.0  # queued, not sent, in the request
        assert all("https://chat.example/#reset=" in letter.get_content() for letter in letters)
        # The worker sends with two processes, so the letters may arrive in either order: only the newest
        # link works, whichever letter holds it.
        browsers = [webtest.TestApp(client.app) for _ in letters]
        answers = [
            confirm(b, reset_token(letter), status="*").status_int for b, letter in zip(browsers, letters, strict=True)
        ]
        assert sorted(answers) == [200, 400]
        browsers[answers.index(200)].get("/auth/me", status=200)
        client.get("/auth/me", status=401)
    finally:
        worker.stop()
        inbox.stop()


def test_smtp_down_the_task_retries_and_the_letter_arrives(settings, make_app, tmp_path):
    port = free_port()
    cfg = replace(settings, smtp_url=f"smtp://127.0.0.1:{port}")
    worker = Worker(cfg, log_path=tmp_path / "worker.log")
    inbox = None
    try:
        client = webtest.TestApp(make_app(cfg))
        client.post_json("/auth/register", {"username": "ann@example.com", "password": PASSWORD}, status=201)
        client.post_json("/auth/reset", {"username": "ann@example.com"}, status=202)
        deadline = time.monotonic() + 20
        while "try 2 of" not in (tmp_path / "worker.log").read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "try 2 of" in (tmp_path / "worker.log").read_text()  # the first try failed and was retried
        inbox = Inbox(port)  # SMTP comes back
        (letter,) = inbox.wait(1, seconds=30)
        confirm(webtest.TestApp(client.app), reset_token(letter))
    finally:
        worker.stop()
        if inbox:
            inbox.stop()


# --- export ---------------------------------------------------------------------------------------------


def test_export_holds_profile_rooms_own_messages_activity_and_sessions(new_user):
    ann, bob = new_user(), new_user()
    kept, left = create(ann, "kept"), create(ann, "left")
    act(bob, "enter", kept)
    ann.post_json(f"/v1/logs/{kept}", {"m": "hello from ann"}, status=201)
    bob.post_json(f"/v1/logs/{kept}", {"m": "bob's own words"}, status=201)
    gone = ann.post_json(f"/v1/logs/{kept}", {"m": "soon deleted"}, status=201).json["id"]
    ann.delete(f"/v1/logs/{kept}/{gone}", status=200)
    act(bob, "enter", left)
    ann.post_json(f"/v1/logs/{left}", {"m": "said before leaving"}, status=201)
    act(ann, "leave", left)
    res = ann.get("/v1/export", status=200)
    assert res.content_type == "application/json" and "attachment" in res.headers["Content-Disposition"]
    doc = json.loads(res.body)
    assert set(doc) == {"exported", "profile", "rooms", "messages", "activity", "sessions"}
    assert doc["profile"]["userid"] == ann.user and doc["profile"]["created"]
    assert doc["rooms"] == [{"roomid": kept, "name": "kept", "kind": "room"}]
    texts = {(m["room"], m.get("m"), m.get("deleted", False)) for m in doc["messages"]}
    assert texts == {(kept, "hello from ann", False), (kept, None, True), (left, "said before leaving", False)}
    assert all(set(m) >= {"room", "id", "t"} for m in doc["messages"])
    assert "bob's own words" not in res.text
    acts = [a["act"] for a in doc["activity"]]
    assert acts[:2] == ["register", "login"] and "leave" in acts and acts.count("message") == 3
    assert all(a["u"] == ann.user for a in doc["activity"])
    assert [s["current"] for s in doc["sessions"]] == [True]


def test_export_streams_in_bounded_chunks(wsgi_app, new_user):
    ann = new_user()
    roomid = create(ann, "busy")
    store = wsgi_app.config["chat.store"]
    t = now()
    store.db.messages.insert_many(
        [{"room": roomid, "id": i, "ev": i + 1, "u": ann.user, "m": f"m{i}", "t": t} for i in range(1, 5001)]
    )
    store.db.timelines.update_one({"_id": roomid}, {"$set": {"seq": 5000}})
    chunks = list(store.export.chunks(ann.user))
    assert len(chunks) >= 5000 // RANGE + 4
    assert max(len(c) for c in chunks) < RANGE * 100
    assert [m["id"] for m in json.loads("".join(chunks))["messages"]] == list(range(1, 5001))


def test_export_is_rate_limited_and_needs_a_session(make_app, settings, client):
    client.get("/v1/export", status=401)
    app = webtest.TestApp(make_app(replace(settings, export_rate=(2, 3600))))
    app.post_json("/auth/register", {"username": "ann@example.com", "password": PASSWORD}, status=201)
    app.get("/v1/export", status=200)
    app.get("/v1/export", status=200)
    res = app.get("/v1/export", status=429)
    assert 1 <= int(res.headers["Retry-After"]) <= 3600


# --- account deletion and deactivation ------------------------------------------------------------------


def delete_account(client, erase=False, password=PASSWORD, status=200):
    return client.request(
        "/v1/profile",
        method="DELETE",
        body=json.dumps({"password": password, "erase": erase}).encode(),
        content_type="application/json",
        status=status,
    )


@pytest.mark.parametrize("erase", [False, True])
def test_deleting_an_account_ends_everything_of_it(new_user, settings, erase):
    ann, bob = new_user(), new_user()
    phone = second_session(ann)
    shared, alone = create(ann, "shared"), create(ann, "alone")
    act(bob, "enter", shared)
    said = ann.post_json(f"/v1/logs/{shared}", {"m": "my words"}, status=201).json["id"]
    ann.post_json(f"/v1/rooms/{shared}/invites", {"userid": new_user().user}, status=201)
    ann.post_json(f"/v1/rooms/{shared}/links", {}, status=201)
    db = database(settings)
    db.push_subscriptions.insert_one({"u": ann.user, "endpoint": "https://push.example/1"})
    res = delete_account(ann, erase)
    assert res.json == {"user": None, "rooms_left": 2, "messages_erased": 1 if erase else 0}
    ann.get("/auth/me", status=401)
    phone.get("/auth/me", status=401)
    assert db.sessions.count_documents({"u": ann.user}) == 0
    assert db.push_subscriptions.count_documents({"u": ann.user}) == 0
    assert db.invites.count_documents({"by": ann.user}) == 0
    assert db.links.count_documents({"by": ann.user, "revoked": False}) == 0
    assert db.rooms.find_one({"_id": alone}) is None  # the last member's leave deleted it
    assert ann.user not in db.rooms.find_one({"_id": shared})["members"]
    message = next(m for m in bob.get(f"/v1/logs/{shared}").json["logs"] if m["id"] == said)
    if erase:
        assert message.get("deleted") is True and "m" not in message
        assert "my words" not in str(list(db.activity.find({"u": ann.user})))
    else:
        assert message["m"] == "my words" and message["u"].startswith("gone:") and message["name"] == "deleted user"
    profile = bob.get(f"/v1/users/{ann.user}", status=200).json
    assert profile == {"userid": ann.user, "name": "deleted user", "avatar": None, "deleted": True}
    login = {"username": ann.user, "password": PASSWORD}
    webtest.TestApp(ann.app).post_json("/auth/login", login, status=401)


@pytest.mark.parametrize("erase", [False, True])
def test_a_deleted_users_reactions_are_taken_back_everywhere(new_user, settings, erase):
    """A reaction names its people by email: once the account is gone, so are its reactions (in rooms
    left before too), others' stay, and the email registering again has none of them."""
    ann, bob = new_user(), new_user()
    shared, left = create(bob, "shared"), create(bob, "left")
    for roomid in (shared, left):
        act(ann, "enter", roomid)
    said = bob.post_json(f"/v1/logs/{shared}", {"m": "lunch?"}, status=201).json["id"]
    earlier = bob.post_json(f"/v1/logs/{left}", {"m": "old news"}, status=201).json["id"]
    for client, emoji in ((ann, "👍"), (bob, "👍"), (ann, "🎉")):
        client.put(f"/v1/logs/{shared}/{said}/reactions/{quote(emoji)}", status=200)
    ann.put(f"/v1/logs/{left}/{earlier}/reactions/{quote('👀')}", status=200)
    act(ann, "leave", left)
    delete_account(ann, erase)
    (message,) = [m for m in bob.get(f"/v1/logs/{shared}").json["logs"] if m["id"] == said]
    assert message["reactions"] == [{"emoji": "👍", "count": 1, "users": [bob.user]}]
    (old,) = bob.get(f"/v1/logs/{left}").json["logs"]
    assert "reactions" not in old
    db = database(settings)
    taken_back = list(db.events.find({"room": shared, "kind": "react"}, sort=[("ev", 1)]))[-2:]
    assert [(e["d"]["u"], e["d"]["emoji"], e["d"]["added"]) for e in taken_back] == [
        (ann.user, "👍", False),
        (ann.user, "🎉", False),
    ]
    again = webtest.TestApp(ann.app)
    again.post_json("/auth/register", {"username": ann.user, "password": NEW_PASSWORD}, status=201)
    again.user = ann.user
    act(again, "enter", shared)
    again.put(f"/v1/logs/{shared}/{said}/reactions/{quote('🎉')}", status=200)
    (message,) = [m for m in bob.get(f"/v1/logs/{shared}").json["logs"] if m["id"] == said]
    assert [r["count"] for r in message["reactions"]] == [1, 1]  # a new person's one reaction, not the old two


def test_a_deleted_email_registers_again_as_a_new_person(new_user, settings):
    ann = new_user()
    delete_account(ann)
    again = webtest.TestApp(ann.app)
    again.post_json("/auth/register", {"username": ann.user, "password": NEW_PASSWORD}, status=201)
    assert again.get("/auth/me").json["name"] == ann.user.split("@")[0]
    assert again.get(f"/v1/room/{ann.user}").json["join_rooms"] == []
    doc = database(settings).users.find_one({"_id": ann.user})
    assert "deleted" not in doc and doc["since"] == doc["created"]


def test_a_kept_message_is_not_the_author_who_registers_the_email_again(new_user):
    ann, bob = new_user(), new_user()
    roomid = create(bob, "kept")
    act(ann, "enter", roomid)
    said = ann.post_json(f"/v1/logs/{roomid}", {"m": "mine, once"}, status=201).json["id"]
    delete_account(ann, False)
    again = webtest.TestApp(ann.app)
    again.post_json("/auth/register", {"username": ann.user, "password": NEW_PASSWORD}, status=201)
    again.user = ann.user
    act(again, "enter", roomid)
    again.patch_json(f"/v1/logs/{roomid}/{said}", {"m": "rewritten"}, status=403)
    again.delete(f"/v1/logs/{roomid}/{said}", status=403)
    (message,) = [m for m in bob.get(f"/v1/logs/{roomid}").json["logs"] if m["id"] == said]
    assert message["m"] == "mine, once" and message["name"] == "deleted user" and message["u"] != ann.user


def test_deleting_needs_the_password(new_user):
    ann = new_user()
    res = delete_account(ann, password="wrong password", status=401)
    assert res.json == {"error": "invalid username or password"}
    ann.get("/auth/me", status=200)


@pytest.mark.parametrize(
    "body",
    [
        {"password": {"$ne": None}, "erase": True},
        {"password": PASSWORD, "erase": "yes"},
        {"password": PASSWORD, "erase": {"$gt": 0}},
        {"password": [PASSWORD]},
        {"erase": True},
        {"password": "x" * 2000},
    ],
)
def test_deleting_refuses_bad_fields(new_user, body):
    ann = new_user()
    ann.request(
        "/v1/profile", method="DELETE", body=json.dumps(body).encode(), content_type="application/json", status=400
    )
    ann.get("/auth/me", status=200)


def test_an_admin_deactivates_and_reactivates_a_user(make_app, settings):
    app = make_app(settings)
    admin, ann = webtest.TestApp(app), webtest.TestApp(app)
    for client, email in ((admin, "admin@example.com"), (ann, "ann@example.com")):
        client.post_json("/auth/register", {"username": email, "password": PASSWORD}, status=201)
    ann.post_json("/v1/admin/users/admin@example.com/deactivate", {}, status=403)
    res = admin.post_json("/v1/admin/users/Ann@Example.com/deactivate", {}, status=200)
    assert res.json == {"userid": "ann@example.com", "deactivated": True}
    ann.get("/auth/me", status=401)
    login = {"username": "ann@example.com", "password": PASSWORD}
    res = webtest.TestApp(app).post_json("/auth/login", login, status=403)
    assert res.json == {"error": "this account is deactivated: ask an administrator"}
    webtest.TestApp(app).post_json("/auth/login", {**login, "password": "wrong password"}, status=401)
    admin.post_json("/v1/admin/users/nobody@example.com/deactivate", {}, status=404)
    admin.post_json("/v1/admin/users/not-an-email/deactivate", {}, status=404)
    res = admin.post_json("/v1/admin/users/ann@example.com/reactivate", {}, status=200)
    assert res.json == {"userid": "ann@example.com", "deactivated": False}
    webtest.TestApp(app).post_json("/auth/login", login, status=200)


# --- room webhooks --------------------------------------------------------------------------------------


def hook_path(url: str) -> str:
    return "/v1/hooks/" + url.rsplit("/v1/hooks/", 1)[1]


def test_a_member_makes_a_webhook_that_posts_as_a_bot(new_user, settings):
    ann, bob = new_user(), new_user()
    roomid = create(ann, "deploys")
    act(bob, "enter", roomid)
    res = ann.post_json(f"/v1/rooms/{roomid}/hooks", {"name": "CI"}, status=201)
    hook = res.json
    assert set(hook) == {"id", "name", "by", "created", "url"} and hook["url"].startswith("http://localhost:")
    token = hook["url"].rsplit("/", 1)[1]
    assert len(token) >= 43
    stored = database(settings).hooks.find_one()
    assert token not in str(stored) and stored["hash"] == hashlib.sha256(token.encode()).hexdigest()
    listed = bob.get(f"/v1/rooms/{roomid}/hooks", status=200).json
    assert listed == [{k: hook[k] for k in ("id", "name", "by", "created")}]
    bot = webtest.TestApp(ann.app)  # no session, no cookie, another site's Origin
    sent = bot.post_json(
        hook_path(hook["url"]), {"m": "build 42 passed", "cid": "b42"}, headers={"Origin": "https://ci.example"}
    )
    assert sent.status_int == 201
    message = sent.json
    assert message["u"] == f"hook:{hook['id']}" and message["bot"] is True and message["name"] == "CI"
    again = bot.post_json(hook_path(hook["url"]), {"m": "build 42 passed", "cid": "b42"}, status=200)
    assert again.json["id"] == message["id"]  # a retry with the same cid posts nothing new
    logs = bob.get(f"/v1/logs/{roomid}").json["logs"]
    assert [m["id"] for m in logs if m.get("bot")] == [message["id"]]


@pytest.mark.parametrize(
    "body, status",
    [
        ({"m": ""}, 400),
        ({"m": {"$ne": None}}, 400),
        ({"m": "x" * 100_000}, 413),
        ({"m": "nul\x00here"}, 400),
        ({"m": ["hi"]}, 400),
        ({"m": "hi", "cid": {"$gt": ""}}, 400),
        ({"m": "hi", "cid": "c" * 500}, 400),
        ({"m": "hi", "u": "ann@example.com"}, 400),
        ({}, 400),
    ],
)
def test_a_webhook_refuses_hostile_bodies_and_stores_nothing(new_user, settings, body, status):
    ann = new_user()
    roomid = create(ann, "room")
    url = ann.post_json(f"/v1/rooms/{roomid}/hooks", {"name": "bot"}, status=201).json["url"]
    webtest.TestApp(ann.app).post_json(hook_path(url), body, status=status)
    assert database(settings).messages.count_documents({"u": {"$regex": "^hook:"}}) == 0
    assert_clean(database(settings))


def test_webhook_names_are_checked(new_user):
    ann = new_user()
    roomid = create(ann, "room")
    for name in ("", None, {"$ne": 1}, "x" * 65, ["bot"]):
        ann.post_json(f"/v1/rooms/{roomid}/hooks", {"name": name}, status=400)


def test_a_webhook_is_rate_limited_per_hook(make_app, settings):
    app = make_app(replace(settings, hook_rate=(2, 60)))
    ann = webtest.TestApp(app)
    ann.post_json("/auth/register", {"username": "ann@example.com", "password": PASSWORD}, status=201)
    ann.user = "ann@example.com"
    roomid = create(ann, "room")
    first, second = (ann.post_json(f"/v1/rooms/{roomid}/hooks", {"name": n}).json["url"] for n in ("a", "b"))
    bot = webtest.TestApp(app)
    for i in range(2):
        bot.post_json(hook_path(first), {"m": f"hi {i}"}, status=201)
    res = bot.post_json(hook_path(first), {"m": "one too many"}, status=429)
    assert int(res.headers["Retry-After"]) >= 1
    bot.post_json(hook_path(second), {"m": "another hook"}, status=201)
    ann.post_json(f"/v1/logs/{roomid}", {"m": "people are not slowed"}, status=201)


def test_a_webhook_is_revoked_and_dies_with_its_creator_or_room(new_user):
    ann, bob, carl = new_user(), new_user(), new_user()
    roomid = create(ann, "room")
    act(bob, "enter", roomid)
    bot = webtest.TestApp(ann.app)
    revoked = ann.post_json(f"/v1/rooms/{roomid}/hooks", {"name": "a"}).json
    bobs = bob.post_json(f"/v1/rooms/{roomid}/hooks", {"name": "b"}).json
    anns = ann.post_json(f"/v1/rooms/{roomid}/hooks", {"name": "c"}).json
    carl.post_json(f"/v1/rooms/{roomid}/hooks", {"name": "x"}, status=403)  # not a member
    carl.get(f"/v1/rooms/{roomid}/hooks", status=403)
    bob.delete(f"/v1/rooms/{roomid}/hooks/{revoked['id']}", status=403)  # neither its creator nor the owner
    ann.delete(f"/v1/rooms/{roomid}/hooks/{revoked['id']}", status=204)
    ann.delete(f"/v1/rooms/{roomid}/hooks/{revoked['id']}", status=404)
    bot.post_json(hook_path(revoked["url"]), {"m": "hi"}, status=404)
    act(bob, "leave", roomid)  # its creator leaves: bob's hook dies
    bot.post_json(hook_path(bobs["url"]), {"m": "hi"}, status=404)
    assert [h["id"] for h in ann.get(f"/v1/rooms/{roomid}/hooks").json] == [anns["id"]]
    bot.post_json(hook_path(anns["url"]), {"m": "still here"}, status=201)
    act(ann, "leave", roomid)  # the last member: the room is deleted, and the hook with it
    bot.post_json(hook_path(anns["url"]), {"m": "hi"}, status=404)
    bot.post_json("/v1/hooks/" + "a" * 43, {"m": "hi"}, status=404)
    bot.post_json("/v1/hooks/short", {"m": "hi"}, status=404)
