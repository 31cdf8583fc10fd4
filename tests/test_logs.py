"""Conversations: GET and POST /v1/logs/:roomid, paging, safe retries, rate limits, races."""

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pymongo
import pytest
import webtest

from tests.helpers import act, create


@pytest.fixture
def room(new_user):
    """A room with a member client (`.room`)."""
    ann = new_user()
    ann.room = create(ann, "talk")
    return ann


def post(client, roomid, text, status=201, **extra):
    return client.post_json(f"/v1/logs/{roomid}", {"m": text, **extra}, status=status)


def test_post_and_read(room):
    res = post(room, room.room, "  hello, wörld 👋  ")
    message = res.json
    assert message["id"] == 1 and message["m"] == "hello, wörld 👋" and message["u"] == room.user
    assert message["t"].endswith("Z") and len(message["t"]) == 24
    assert room.get(f"/v1/logs/{room.room}").json == {"logs": [message]}


def test_post_as_form(room):
    res = room.post(f"/v1/logs/{room.room}", {"m": "from a form", "cid": "f1"}, status=201)
    assert res.json["m"] == "from a form"


def test_ids_are_a_sequence_and_pages_go_by_id(room):
    ids = [post(room, room.room, f"m{i}").json["id"] for i in range(1, 251)]
    assert ids == list(range(1, 251))
    latest = room.get(f"/v1/logs/{room.room}").json["logs"]
    assert [m["id"] for m in latest] == list(range(151, 251))  # latest 100, oldest first
    older = room.get(f"/v1/logs/{room.room}?before=151&limit=50").json["logs"]
    assert [m["id"] for m in older] == list(range(101, 151))
    assert [m["id"] for m in room.get(f"/v1/logs/{room.room}?before=3").json["logs"]] == [1, 2]
    newer = room.get(f"/v1/logs/{room.room}?after=240").json["logs"]
    assert [m["id"] for m in newer] == list(range(241, 251))
    assert [m["id"] for m in room.get(f"/v1/logs/{room.room}?after=0&limit=3").json["logs"]] == [1, 2, 3]
    assert room.get(f"/v1/logs/{room.room}?after=250").json["logs"] == []
    assert [m["id"] for m in room.get(f"/v1/logs/{room.room}?after=10&before=14").json["logs"]] == [11, 12, 13]
    assert len(room.get(f"/v1/logs/{room.room}?limit=1000").json["logs"]) == 250


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=1001", "limit=x", "before=0", "before=-1", "after=-1", "after=1e3", "limit=", "before=%00"],
)
def test_bad_paging_is_400(room, query):
    assert room.get(f"/v1/logs/{room.room}?{query}", status=400).json == {"logs": []}


def test_read_missing_or_malformed_room_is_400(room):
    assert room.get("/v1/logs/nosuchroom", status=400).json == {"logs": []}
    assert room.get("/v1/logs/bad$id", status=400).json == {"logs": []}


def test_authorization_matrix(room, new_user, client):
    post(room, room.room, "members only")
    stranger = new_user()
    client.get(f"/v1/logs/{room.room}", status=401)
    post(client, room.room, "anon", status=401)
    assert stranger.get(f"/v1/logs/{room.room}", status=403).json == {"logs": []}
    assert post(stranger, room.room, "hi", status=403).json == {"error": "you are not a member of this room"}
    act(stranger, "enter", room.room)
    assert len(stranger.get(f"/v1/logs/{room.room}").json["logs"]) == 1
    post(stranger, room.room, "now I can", status=201)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"m": ""},
        {"m": "   "},
        {"m": "x" * 4001},
        {"m": {"$ne": None}},
        {"m": ["a"]},
        {"m": 5},
        {"m": "ok", "cid": "c" * 65},
        {"m": "ok", "cid": {"$ne": None}},
        {"m": "ok", "cid": ""},
        {"m": "nul\x00byte"},
    ],
)
def test_bad_message_is_400(room, body):
    assert "error" in room.post_json(f"/v1/logs/{room.room}", body, status=400).json


def test_message_of_4000_characters_after_trimming(room):
    post(room, room.room, "  " + "é" * 4000 + "  ", status=201)


def test_post_to_missing_room_is_400(room):
    post(room, "nosuchroom", "hello?", status=400)


def test_same_cid_is_stored_once(room, settings):
    first = post(room, room.room, "once", cid="abc").json
    again = post(room, room.room, "once (retry)", status=200, cid="abc").json
    assert again == first
    post(room, room.room, "other cid", cid="abd")
    db = pymongo.MongoClient(settings.mongodb_uri).get_default_database()
    assert db.messages.count_documents({"room": room.room}) == 2


def test_cid_is_per_user(room, new_user):
    bob = new_user()
    act(bob, "enter", room.room)
    a = post(room, room.room, "ann", cid="same").json
    b = post(bob, room.room, "bob", cid="same").json
    assert a["id"] != b["id"]


def test_message_rate_limit(make_app, settings):
    app = webtest.TestApp(make_app(replace(settings, message_rate=(3, 30))))
    app.post_json("/auth/register", {"username": "ann@example.com", "password": "long enough"}, status=201)
    roomid = app.post_json("/v1/room", {"userid": "ann@example.com", "action": "enter", "roomid": None}).json["roomid"]
    for i in range(3):
        post(app, roomid, f"m{i}", cid=f"c{i}")
    res = post(app, roomid, "one too many", status=429)
    assert 1 <= int(res.headers["Retry-After"]) <= 30
    post(app, roomid, "m0", status=200, cid="c0")  # a retry of a stored message is not a new message


def test_200_concurrent_posts_get_dense_unique_ids(make_app, settings):
    app = make_app(settings)
    users = []
    for i in range(8):
        user = webtest.TestApp(app)
        user.post_json("/auth/register", {"username": f"p{i}@example.com", "password": "long enough"}, status=201)
        user.user = f"p{i}@example.com"
        users.append(user)
    roomid = create(users[0])
    for user in users[1:]:
        act(user, "enter", roomid)
    barrier = threading.Barrier(20)

    def send(i):
        if i < 20:
            barrier.wait()
        return post(users[i % 8], roomid, f"message {i}").json["id"]

    with ThreadPoolExecutor(20) as pool:
        ids = list(pool.map(send, range(200)))
    assert sorted(ids) == list(range(1, 201))
    logs = users[0].get(f"/v1/logs/{roomid}?limit=1000").json["logs"]
    assert [m["id"] for m in logs] == list(range(1, 201))
    assert sorted(m["m"] for m in logs) == sorted(f"message {i}" for i in range(200))


def test_same_cid_posted_concurrently_is_stored_once(room, settings):
    barrier = threading.Barrier(10)

    def send(_):
        barrier.wait()
        res = post(room, room.room, "racing", status="*", cid="race-1")
        return res.status_int, res.json["id"]

    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(send, range(10)))
    assert {status for status, _ in answers} <= {200, 201}
    assert [status for status, _ in answers].count(201) == 1
    assert {mid for _, mid in answers} == {1}
    db = pymongo.MongoClient(settings.mongodb_uri).get_default_database()
    assert db.messages.count_documents({"room": room.room}) == 1
    assert db.activity.count_documents({"act": "message"}) == 1


def test_message_activity_and_deletion_with_the_room(room, settings):
    post(room, room.room, "first")
    post(room, room.room, "second")
    db = pymongo.MongoClient(settings.mongodb_uri).get_default_database()
    assert sorted(e["m"] for e in db.activity.find({"act": "message"})) == ["first", "second"]
    act(room, "leave", room.room)
    assert db.messages.count_documents({"room": room.room}) == 0


def test_around_centres_the_page_on_an_id(room):
    for i in range(1, 31):
        post(room, room.room, f"m{i}")

    def ids(query):
        return [m["id"] for m in room.get(f"/v1/logs/{room.room}?{query}").json["logs"]]

    assert ids("around=15&limit=5") == [13, 14, 15, 16, 17]
    assert ids("around=15&limit=4") == [14, 15, 16, 17]
    assert ids("around=2&limit=5") == [1, 2, 3, 4, 5]  # shifted to stay within the room
    assert ids("around=30&limit=5") == [26, 27, 28, 29, 30]
    assert ids("around=99&limit=3") == [28, 29, 30]
    assert len(ids("around=15")) == 30


@pytest.mark.parametrize("query", ["around=0", "around=x", "around=5&before=9", "around=5&after=1"])
def test_bad_around_is_400(room, query):
    assert room.get(f"/v1/logs/{room.room}?{query}", status=400).json == {"logs": []}


def test_around_is_for_members(room, new_user):
    post(room, room.room, "hi")
    assert new_user().get(f"/v1/logs/{room.room}?around=1", status=403).json == {"logs": []}
