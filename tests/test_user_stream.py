"""GET /v1/events, the user's one stream, on two real web processes sharing MongoDB and Redis: every room's
events, the public list, co-members' profiles and the user's notices; exact resume across a changing room set."""

import json
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta

import bottle
import pymongo
import pytest
import webtest

from routes.user_stream import MAX_CHANGES, UserStream
from scripts.servers import Redis
from settings import Settings
from store import Store
from store.db import now
from store.feed import CHECKPOINT_DAYS
from tests.helpers import PASSWORD, QUICK, Stream, User, Web, create, live_settings

LIVE_DB = "chat_user_stream"


@pytest.fixture(scope="module")
def shared_settings(mongo_server, redis_server, tmp_path_factory) -> Settings:
    return live_settings(mongo_server, redis_server, LIVE_DB, tmp_path_factory.mktemp("users"))


@pytest.fixture(scope="module")
def webs(shared_settings):
    """Two web processes sharing one database and one Redis."""
    started = [
        Web(shared_settings, shared_settings.data_dir, ADMIN_USERS="boss@example.com", **QUICK) for _ in range(2)
    ]
    yield started
    for web in started:
        web.stop()


def opened(web, user, last_id=None) -> tuple[Stream, str]:
    """The user's stream and the id it starts at."""
    stream = Stream(web, None, user.cookie, headers={"Last-Event-ID": last_id} if last_id else None)
    assert stream.status == 200
    first = stream.block()
    assert first["retry"] == "3000"
    return stream, first["id"]


def next_event(stream, kind, timeout=5.0) -> dict:
    """The next block of this kind (others skipped)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        block = stream.block()
        assert block is not None
        if block.get("event") == kind:
            return block
    raise AssertionError(f"no {kind} within {timeout} s")


def until_quiet(stream, pings=2) -> list[dict]:
    """Every event until `pings` heartbeats pass with nothing (QUICK: one a second)."""
    events, quiet = [], 0
    while quiet < pings:
        block = stream.block()
        assert block is not None
        if "comment" in block:
            quiet += 1
        else:
            quiet = 0
            events.append(block)
    return events


def test_one_stream_carries_every_room_of_the_user_and_nothing_else(webs):
    ann, bob = User(webs[0]), User(webs[1])
    first, second, theirs = ann.create(webs[0]), ann.create(webs[0]), bob.create(webs[1])
    stream, _ = opened(webs[0], ann)
    ann.say(webs[1], first, "one")
    bob.say(webs[1], theirs, "not for ann")
    ann.say(webs[0], second, "two")
    got = [b for b in until_quiet(stream) if b.get("event") == "message"]
    assert [(b["data"]["roomid"], b["data"]["m"]) for b in got] == [(first, "one"), (second, "two")]
    stream.close()


def test_a_stream_starts_with_what_a_page_shows(webs):
    ann, bob = User(webs[0]), User(webs[1])
    roomid = bob.create(webs[1])
    ann.act(webs[0], "enter", roomid)
    bob.call(webs[1], "put", "/v1/profile", {"name": "Bob Builder"})
    stream, _ = opened(webs[0], ann)
    people, rooms, invitations = stream.block(), stream.block(), stream.block()
    assert people["event"] == "people" and {p["userid"]: p["name"] for p in people["data"]["people"]}[bob.user] == (
        "Bob Builder"
    )
    assert rooms["event"] == "rooms" and [r["roomid"] for r in rooms["data"]["rooms"]] == [roomid]
    assert roomid in [r["roomid"] for r in rooms["data"]["allrooms"]]
    assert invitations == {"event": "invitations", "data": {"invitations": []}}
    stream.close()


def test_a_room_made_elsewhere_and_a_dm_reach_the_page_within_a_second(webs):
    ann, bob = User(webs[0]), User(webs[1])
    stream, _ = opened(webs[0], ann)
    t = time.monotonic()
    public = bob.create(webs[1])
    listed = next_event(stream, "room")
    assert listed["data"]["roomid"] == public and time.monotonic() - t < 1.0
    dm = bob.call(webs[1], "post", "/v1/dm", {"userid": ann.user})["roomid"]
    joined = next_event(stream, "room")
    assert joined["data"]["roomid"] == dm and joined["data"]["kind"] == "dm" and joined["data"]["unread"] == 0
    bob.say(webs[1], dm, "hi ann")
    message = next_event(stream, "message")
    assert message["data"]["roomid"] == dm and message["data"]["m"] == "hi ann"
    stream.close()


def test_invitations_reads_and_co_members_profiles_arrive(webs):
    ann, bob, cat = User(webs[0]), User(webs[1]), User(webs[1])
    roomid = bob.create(webs[1])
    ann.act(webs[0], "enter", roomid)
    private = bob.call(
        webs[1],
        "post",
        "/v1/room",
        {"userid": bob.user, "action": "enter", "roomid": None, "visibility": "private", "name": "secret"},
    )["roomid"]
    stream, _ = opened(webs[0], ann)
    bob.call(webs[1], "post", f"/v1/rooms/{private}/invites", {"userid": ann.user}, 201)
    invitation = next_event(stream, "invitation")
    assert invitation["data"]["roomid"] == private and invitation["data"]["by"] == bob.user
    cat.call(webs[1], "put", "/v1/profile", {"name": "A stranger"})
    bob.call(webs[1], "put", "/v1/profile", {"name": "Bob B."})
    profile = next_event(stream, "profile")
    assert profile["data"]["userid"] == bob.user and profile["data"]["name"] == "Bob B."
    message = bob.say(webs[1], roomid, "read me")
    unread = next_event(stream, "message")
    assert unread["data"]["id"] == message["id"]
    ann.call(webs[1], "post", f"/v1/rooms/{roomid}/read", {"id": message["id"]})
    read = next_event(stream, "read")
    assert read["data"] == {"roomid": roomid, "read": message["id"], "unread": 0, "mentions": 0}
    stream.close()


def test_a_resume_tells_exactly_what_changed_while_away(webs):
    ann, bob = User(webs[0]), User(webs[1])
    stays, left, removed, deleted = (bob.create(webs[1]) for _ in range(4))
    for roomid in (stays, left, removed, deleted):
        ann.act(webs[0], "enter", roomid)
    stream, _ = opened(webs[0], ann)
    ann.say(webs[0], stays, "before")
    seen = next_event(stream, "message")
    stream.close()
    ann.say(webs[1], stays, "while away")
    ann.act(webs[1], "leave", left)
    assert bob.http.delete(f"{webs[1].url}/v1/rooms/{removed}/members/{ann.user}").status_code == 204
    ann.act(webs[1], "leave", deleted)
    bob.act(webs[1], "leave", deleted)
    dm = bob.call(webs[1], "post", "/v1/dm", {"userid": ann.user})["roomid"]
    again, _ = opened(webs[1], ann, seen["id"])
    events = until_quiet(again)
    kinds = [(b["event"], b["data"].get("roomid")) for b in events]
    assert ("message", stays) in kinds and [b["data"]["m"] for b in events if b["event"] == "message"] == ["while away"]
    assert sorted(k for k in kinds if k[0] == "gone") == sorted([("gone", left), ("gone", removed), ("gone", deleted)])
    assert ("room", dm) in kinds
    snapshot = next(b for b in events if b["event"] == "rooms")
    assert {r["roomid"] for r in snapshot["data"]["rooms"]} == {stays, dm}
    # From the last id of the resume, nothing comes again.
    last = [b["id"] for b in events if "id" in b][-1]
    again.close()
    third, _ = opened(webs[0], ann, last)
    assert [b["event"] for b in until_quiet(third)] == ["people", "rooms", "invitations"]
    third.close()


def test_leaving_while_streaming_ends_that_room_and_a_resume_does_not_repeat_it(webs):
    ann, bob = User(webs[0]), User(webs[1])
    roomid = bob.create(webs[1])
    ann.act(webs[0], "enter", roomid)
    stream, _ = opened(webs[0], ann)
    ann.act(webs[1], "leave", roomid)
    leave = next_event(stream, "leave")
    bob.say(webs[1], roomid, "after ann left")
    assert [b for b in until_quiet(stream) if b.get("event") == "message"] == []
    stream.close()
    again, _ = opened(webs[1], ann, leave["id"])
    assert [b["event"] for b in until_quiet(again)] == ["people", "rooms", "invitations"]
    again.close()


def test_many_rooms_many_reconnects_every_message_exactly_once(webs):
    """Posts across 30 rooms on both processes while the stream drops and resumes at random points, from
    either process: the checkpoint is saved again as the changes grow, and nothing is lost or repeated."""
    ann, bob = User(webs[0]), User(webs[1])
    rooms = [bob.create(webs[1]) for _ in range(MAX_CHANGES + 6)]
    for roomid in rooms:
        ann.act(webs[0], "enter", roomid)
    posts = [(roomid, f"{roomid}:{i}") for i in range(3) for roomid in rooms]
    random.Random(7).shuffle(posts)
    received: list[str] = []
    last_id = None

    def post_all():
        for n, (roomid, text) in enumerate(posts):
            bob.say(webs[n % 2], roomid, text)

    with ThreadPoolExecutor(1) as pool:
        done = pool.submit(post_all)
        while not done.done() or len(received) < len(posts):
            stream, last_id = opened(webs[len(received) % 2], ann, last_id)  # a resume's first id is where it stands
            for _ in range(random.randint(1, 15)):
                block = stream.block()
                if "id" in block:
                    last_id = block["id"]
                if block.get("event") == "message":
                    received.append(block["data"]["m"])
                if len(received) == len(posts) and done.done():
                    break
            stream.close()
        done.result()
    assert sorted(received) == sorted(text for _, text in posts)


def test_a_resume_names_its_checkpoint_again_until_it_is_a_day_old(webs, shared_settings):
    """Each reconnect of an open page would otherwise write a checkpoint (every 5 minutes per page)."""
    ann, bob = User(webs[0]), User(webs[1])
    roomid = bob.create(webs[1])
    ann.act(webs[0], "enter", roomid)
    with pymongo.MongoClient(shared_settings.mongodb_uri) as client:
        checkpoints = client.get_default_database().checkpoints
        stream, first = opened(webs[0], ann)
        stream.close()
        bob.say(webs[1], roomid, "while away")
        again, resumed = opened(webs[1], ann, first)
        assert resumed == first  # where it stands: then what came while away
        message = next_event(again, "message")
        assert message["data"]["m"] == "while away" and message["id"].split("~")[0] == first.split("~")[0]
        again.close()
        assert checkpoints.count_documents({"u": ann.user}) == 1
        checkpoints.update_one({"u": ann.user}, {"$set": {"expires": now() + timedelta(days=CHECKPOINT_DAYS - 1.5)}})
        third, saved = opened(webs[0], ann, message["id"])
        assert saved.split("~")[0] != first.split("~")[0] and "~" not in saved  # a new one, at where it stands
        assert [b["event"] for b in until_quiet(third)] == ["people", "rooms", "invitations"]
        third.close()
        assert checkpoints.count_documents({"u": ann.user}) == 2


def test_a_lost_subscription_is_caught_up_with_joins_and_removals_too(shared_settings, tmp_path):
    """Redis goes away while messages are posted, a room is joined and another left: once it is back, the
    stream's own look at the database brings each, once (a long heartbeat: nothing else could)."""
    own_redis = Redis()
    settings = replace(shared_settings, redis_url=own_redis.url)
    web = Web(settings, tmp_path, HEARTBEAT_SECONDS="60", STREAM_MAX_SECONDS="60")
    writer = Store(settings.mongodb_uri, settings.redis_url)
    try:
        ann, bob = User(web), User(web)
        stays, goes, comes = bob.create(web), bob.create(web), bob.create(web)
        ann.act(web, "enter", stays)
        ann.act(web, "enter", goes)
        stream, _ = opened(web, ann)
        next_event(stream, "invitations")
        own_redis.stop()
        writer.messages.post(bob.user, stays, "while Redis is away")
        writer.rooms.leave(ann.user, goes)
        writer.rooms.enter(ann.user, comes)
        writer.messages.post(bob.user, comes, "in the new room")
        own_redis.start()
        seen = []
        while not {"gone", "room", "message"} <= {b.get("event") for b in seen}:
            block = stream.block()
            if "event" in block:
                seen.append(block)
        got = [(b["event"], b["data"].get("roomid"), b["data"].get("m")) for b in seen]
        assert ("message", stays, "while Redis is away") in got
        assert ("gone", goes, None) in got and ("room", comes, None) in got
        bob.say(web, comes, "live again")
        assert next_event(stream, "message")["data"]["m"] == "live again"
        assert [g for g in got if g[0] == "message"] == [("message", stays, "while Redis is away")]
        stream.close()
    finally:
        writer.close()
        web.stop()
        own_redis.stop()


def test_bad_and_forgotten_ids(webs):
    ann = User(webs[0])
    for bad in ("nonsense", "", "abc~1.2", "A" * 12 + "~zz", "A" * 12 + "~1.2" * 40):
        assert Stream(webs[0], None, ann.cookie, headers={"Last-Event-ID": bad}).status == 400
    assert Stream(webs[0], None).status == 401
    stream, _ = opened(webs[0], ann, "A" * 12 + "~f3")
    assert next_event(stream, "reset")["data"] == {}
    stream.close()


def test_what_commits_between_the_rooms_read_and_listening_to_them_still_comes(settings, make_app, monkeypatch):
    """A message posted just after a start read the user's rooms, before it listened to them: it comes once,
    on a fresh start and on a resume alike."""
    app = make_app(settings)
    store = app.config["chat.store"]
    ann = webtest.TestApp(app)
    ann.post_json("/auth/register", {"username": "ann@example.com", "password": PASSWORD}, status=201)
    ann.user = "ann@example.com"
    roomid = create(ann)
    read = store.rooms.following

    def following_then_a_post(user):
        found = read(user)
        store.messages.post("ann@example.com", roomid, f"between {len(posted)}")
        posted.append(1)
        return found

    def start(after=None) -> tuple[list[str], str]:
        """The messages of the start and its first seconds, and the last id."""
        bottle.response.bind()
        stream = UserStream(store, "ann@example.com").run(app.config["chat.settings"], after, lambda: False)
        texts, last, after_start = [], None, 0
        for text in stream:
            after_start += after_start or "event: invitations" in text
            if after_start > 3:  # the start, what its reconciliation sends, then quiet seconds
                break
            for block in text.split("\n\n"):
                last = next((line[4:] for line in block.split("\n") if line.startswith("id: ")), last)
                if "event: message\n" in block:
                    texts.append(json.loads(block.split("data: ", 1)[1])["m"])
        stream.close()
        return texts, last

    posted = []
    monkeypatch.setattr(store.rooms, "following", following_then_a_post)
    assert start()[0] == ["between 0"]
    texts, last = start()
    assert texts == ["between 1"]
    assert start(last)[0] == ["between 2"]
