"""People and private rooms on real waitress processes: the DM race across processes, presence after a
SIGKILL, typing, removals, moderation events that replay on resume, an admin's delete."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from settings import Settings
from tests.helpers import PASSWORD, QUICK, Stream, User, Web, live_settings

LIVE_DB = "chat_people_live"
ADMIN = "boss@example.com"


@pytest.fixture(scope="module")
def shared_settings(mongo_server, redis_server, tmp_path_factory) -> Settings:
    return live_settings(mongo_server, redis_server, LIVE_DB, tmp_path_factory.mktemp("people"))


@pytest.fixture(scope="module")
def webs(shared_settings):
    """Two web processes sharing one database and one Redis."""
    started = [Web(shared_settings, shared_settings.data_dir, ADMIN_USERS=ADMIN, **QUICK) for _ in range(2)]
    yield started
    for web in started:
        web.stop()


def private_room(user, web) -> str:
    body = {"userid": user.user, "action": "enter", "roomid": None, "visibility": "private", "name": "p"}
    return user.call(web, "post", "/v1/room", body)["roomid"]


def events_of(stream, kind) -> list[dict]:
    return [b for b in stream.events_until(lambda b: b.get("event") == kind) if "event" in b]


def test_both_starting_a_dm_on_different_processes_get_one_room(webs):
    for _ in range(6):
        ann, bob = User(webs[0]), User(webs[1])
        barrier = threading.Barrier(2)

        def start(me, other, web, barrier=barrier):
            barrier.wait()
            return me.call(web, "post", "/v1/dm", {"userid": other.user})["roomid"]

        with ThreadPoolExecutor(2) as pool:
            first, second = pool.submit(start, ann, bob, webs[0]), pool.submit(start, bob, ann, webs[1])
            assert first.result() == second.result()
        [room] = ann.call(webs[0], "get", f"/v1/room/{ann.user}")["join_rooms"]
        assert room["kind"] == "dm" and room["members"] == 2


def test_presence_across_processes_and_after_a_sigkill(webs, shared_settings):
    ann, bob = User(webs[0]), User(webs[0])
    roomid = ann.create(webs[0])
    bob.act(webs[0], "enter", roomid)

    def online():
        members = bob.call(webs[1], "get", f"/v1/rooms/{roomid}/members")["members"]
        return {m["userid"]: m["online"] for m in members}

    assert online() == {ann.user: False, bob.user: False}
    stream = Stream(webs[0], roomid, ann.cookie)
    stream.block()
    assert online() == {ann.user: True, bob.user: False}
    stream.close()
    deadline = time.monotonic() + 10
    while online()[ann.user] and time.monotonic() < deadline:  # the server notices the closed stream
        time.sleep(0.5)
    assert online()[ann.user] is False
    doomed = Web(shared_settings, shared_settings.data_dir, **QUICK)
    try:
        stream = Stream(doomed, roomid, ann.cookie)
        stream.block()
        assert online()[ann.user] is True
        doomed.proc.kill()  # SIGKILL: no clean-up code runs
        doomed.proc.wait(10)
        killed = time.monotonic()
        while online()[ann.user] and time.monotonic() - killed < 10:  # three heartbeats (QUICK: 1 s)
            time.sleep(0.5)
        assert online()[ann.user] is False and time.monotonic() - killed < 10
    finally:
        doomed.log.close()


def test_typing_reaches_streams_on_every_process_and_is_never_replayed(webs):
    ann, bob = User(webs[0]), User(webs[0])
    bob.call(webs[0], "put", "/v1/profile", {"name": "Bob"})
    roomid = ann.create(webs[0])
    bob.act(webs[0], "enter", roomid)
    stream = Stream(webs[1], roomid, ann.cookie)
    start = stream.block()
    answer = bob.http.post(f"{webs[0].url}/v1/rooms/{roomid}/typing", timeout=10)
    assert answer.status_code == 204
    typing = events_of(stream, "typing")[-1]
    assert typing["data"] == {"u": bob.user, "name": "Bob"} and "id" not in typing
    ann.say(webs[0], roomid, "after typing")
    events_of(stream, "message")
    stream.close()
    again = Stream(webs[0], roomid, ann.cookie, headers={"Last-Event-ID": start["id"]})
    replayed = events_of(again, "message")
    assert [b["event"] for b in replayed] == ["message"]
    again.close()


def test_moderation_events_replay_and_a_removed_member_is_cut_off(webs):
    ann, bob, cat = User(webs[0]), User(webs[0]), User(webs[0])
    roomid = private_room(ann, webs[0])
    start = Stream(webs[0], roomid, ann.cookie).block()["id"]
    ann.call(webs[0], "post", f"/v1/rooms/{roomid}/invites", {"userid": bob.user}, 201)
    bob.act(webs[1], "enter", roomid)
    ann.call(webs[0], "patch", f"/v1/rooms/{roomid}", {"name": "renamed"})
    bob_stream = Stream(webs[1], roomid, bob.cookie)
    bob_stream.block()
    answer = ann.http.delete(f"{webs[0].url}/v1/rooms/{roomid}/members/{bob.user}", timeout=10)
    assert answer.status_code == 204
    rest = [b for b in bob_stream.rest() if "event" in b]
    assert [b["event"] for b in rest] == ["removed"] and rest[0]["data"]["u"] == bob.user
    bob.call(webs[1], "get", f"/v1/logs/{roomid}", status=400)
    assert Stream(webs[1], roomid, bob.cookie).status == 400  # as for a room that does not exist
    # Everything since the start replays, in order, on either process.
    resumed = Stream(webs[1], roomid, ann.cookie, headers={"Last-Event-ID": start})
    blocks = events_of(resumed, "removed")
    assert [b["event"] for b in blocks] == ["invite", "enter", "updated", "removed"]
    assert blocks[0]["data"]["userid"] == bob.user and blocks[2]["data"]["name"] == "renamed"
    resumed.close()
    cat.call(webs[0], "get", f"/v1/logs/{roomid}", status=400)


def test_an_admin_deletes_a_room_and_its_streams_end(webs):
    ann = User(webs[0])
    admin = User.__new__(User)
    admin.user, admin.http = ADMIN, __import__("requests").Session()
    answer = admin.http.post(f"{webs[0].url}/auth/register", json={"username": ADMIN, "password": PASSWORD})
    if answer.status_code == 409:
        admin.http.post(f"{webs[0].url}/auth/login", json={"username": ADMIN, "password": PASSWORD})
    roomid = private_room(ann, webs[0])
    stream = Stream(webs[1], roomid, ann.cookie)
    stream.block()
    assert admin.http.delete(f"{webs[0].url}/v1/rooms/{roomid}", timeout=10).status_code == 204
    assert [b["event"] for b in stream.rest() if "event" in b] == ["deleted"]
    assert admin.http.delete(f"{webs[0].url}/v1/rooms/{roomid}", timeout=10).status_code == 404
