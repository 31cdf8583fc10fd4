"""Real-time: GET /v1/events/:roomid on real waitress processes sharing one database and one Redis."""

import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from types import SimpleNamespace

import pytest
import redis
import waitress
from waitress import wasyncore

from chat import server_options
from routes.sse import LIFE_FROM, RESERVED_THREADS
from scripts.servers import ROOT, Redis
from settings import Settings
from store import Store
from store.bus import CHANNEL, MemoryBus
from store.embedded import free_port
from store.fanout import QUEUE_MAX, Fanout
from store.timeline import Event
from tests.helpers import QUICK, Stream, User, Web, is_message, live_settings

EVENTS_DB = "chat_events"


@pytest.fixture(scope="module")
def shared_settings(mongo_server, redis_server, tmp_path_factory) -> Settings:
    return live_settings(mongo_server, redis_server, EVENTS_DB, tmp_path_factory.mktemp("events"))


@pytest.fixture(scope="module")
def webs(shared_settings):
    """Two web processes behind an imaginary load balancer: one database, one Redis."""
    started = [Web(shared_settings, shared_settings.data_dir, **QUICK) for _ in range(2)]
    yield started
    for web in started:
        web.stop()


@pytest.fixture
def room(webs):
    """(ann, bob, roomid): two members of a new room, registered through the first process."""
    ann, bob = User(webs[0]), User(webs[0])
    roomid = ann.create(webs[0])
    bob.act(webs[0], "enter", roomid)
    return ann, bob, roomid


def test_stream_headers_retry_id_and_heartbeat(webs, room):
    ann, _, roomid = room
    stream = Stream(webs[1], roomid, ann.cookie)
    assert stream.status == 200
    assert stream.response.getheader("Content-Type") == "text/event-stream"
    assert stream.response.getheader("Cache-Control") == "no-cache"
    assert stream.response.getheader("X-Accel-Buffering") == "no"
    # Before any message, the id names the timeline's newest position: ann's and bob's enters.
    assert stream.block() == {"retry": "3000", "id": "0.2"}
    assert stream.block() == {"comment": "ping"}
    stream.close()


def test_message_posted_to_one_process_reaches_listeners_on_both_exactly_once(webs, room, shared_settings):
    ann, bob, roomid = room
    streams = [Stream(web, roomid, ann.cookie) for web in webs]
    for stream in streams:
        stream.block()
    # Three writers at once, through both processes: publishes may reach Redis out of id order.
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda i: (ann, bob)[i % 2].say(webs[i % 2], roomid, f"m{i}"), range(30)))
    for stream in streams:
        assert stream.message_ids_through(30) == list(range(1, 31))
    # A stray repeat of an old event on the bus is not sent again.
    old = ann.call(webs[0], "get", f"/v1/logs/{roomid}?after=4&limit=1")["logs"][0]
    redis.Redis.from_url(shared_settings.redis_url).publish(
        CHANNEL, json.dumps({"room": roomid, "event": "message", "data": old})
    )
    ann.say(webs[0], roomid, "after the repeat")
    for stream in streams:
        blocks = stream.events_until(lambda b: is_message(b) and b["id"] == "31")
        assert [b["id"] for b in blocks if is_message(b)] == ["31"]
        assert blocks[-1]["data"]["m"] == "after the repeat" and blocks[-1]["data"]["u"] == ann.user
        stream.close()


def test_a_message_whose_publish_failed_still_arrives_in_order(webs, room, shared_settings):
    ann, bob, roomid = room
    stream = Stream(webs[1], roomid, ann.cookie)
    stream.block()
    # A writer whose Redis is unreachable: its messages are stored but never published.
    cut_off = Store(shared_settings.mongodb_uri, f"redis://127.0.0.1:{free_port()}/0")
    try:
        cut_off.messages.post(bob.user, roomid, "never published")  # 1: found by the periodic check
        assert stream.message_ids_through(1) == [1]
        cut_off.messages.post(bob.user, roomid, "never published either")  # 2: the gap before 3
        bob.say(webs[0], roomid, "published")
        assert stream.message_ids_through(3) == [2, 3]
    finally:
        cut_off.close()
        stream.close()


@pytest.mark.parametrize(
    "resume", [{"headers": {"Last-Event-ID": "3"}}, {"query": "?after=3"}], ids=["Last-Event-ID", "after"]
)
def test_resume_replays_exactly_the_missed_messages_then_goes_live(webs, room, resume):
    ann, bob, roomid = room
    first = Stream(webs[1], roomid, ann.cookie)
    first.block()
    for i in range(1, 4):
        bob.say(webs[0], roomid, f"m{i}")
    assert [int(b["id"]) for b in first.events_until(lambda b: b.get("id") == "3") if is_message(b)] == [1, 2, 3]
    first.close()
    for i in range(4, 7):
        bob.say(webs[0], roomid, f"m{i}")
    # More messages arrive while the stream replays; none may be lost or repeated.
    with ThreadPoolExecutor(1) as pool:
        writing = pool.submit(lambda: [bob.say(webs[1], roomid, f"m{i}") for i in range(7, 13)])
        again = Stream(webs[0], roomid, ann.cookie, **resume)
        assert again.block() == {"retry": "3000", "id": "3"}
        writing.result()
        assert again.message_ids_through(12) == list(range(4, 13))
    again.close()
    # Without either, a stream starts live from the newest id; an id ahead of the room starts there too.
    for newest, extra in ((12, {}), (13, {"query": "?after=999"})):
        live = Stream(webs[1], roomid, ann.cookie, **extra)
        start = live.block()
        assert start["retry"] == "3000" and start["id"].split(".")[0] == str(newest)
        bob.say(webs[0], roomid, "next")
        assert live.message_ids_through(newest + 1) == [newest + 1]
        live.close()


@pytest.mark.parametrize(
    "case, status",
    [
        ("no session", 401),
        ("not a member", 403),
        ("missing room", 400),
        ("malformed room", 400),
        ("negative Last-Event-ID", 400),
        ("text Last-Event-ID", 400),
        ("dotted twice after", 400),
        ("empty after", 400),
    ],
)
def test_refusals(webs, room, case, status):
    ann, _, roomid = room
    outsider = User(webs[0])
    cookie, path, query, headers = ann.cookie, roomid, "", {}
    if case == "no session":
        cookie = None
    elif case == "not a member":
        cookie = outsider.cookie
    elif case == "missing room":
        path = "nosuchroom"
    elif case == "malformed room":
        path = "x" * 65
    elif case.endswith("Last-Event-ID"):
        headers = {"Last-Event-ID": {"negative": "-1", "text": "seven"}[case.split()[0]]}
    else:
        query = {"dotted": "?after=1.5.2", "empty": "?after="}[case.split()[0]]
    stream = Stream(webs[1], path, cookie, query=query, headers=headers)
    assert stream.status == status
    assert stream.response.getheader("Content-Type") == "application/json"
    assert "error" in stream.json()
    stream.close()


def test_room_deletion_ends_every_stream_of_it(webs):
    ann = User(webs[0])
    roomid = ann.create(webs[0])
    streams = [Stream(web, roomid, ann.cookie) for web in webs]
    for stream in streams:
        stream.block()
    assert ann.act(webs[0], "leave", roomid) == {"roomid": "room deleted"}
    for stream in streams:
        rest = [b for b in stream.rest() if "comment" not in b]
        assert [b["event"] for b in rest] == ["deleted"]
        assert rest[0]["data"]["roomid"] == roomid and rest[0]["data"]["t"].endswith("Z")
        stream.close()


def test_enter_and_leave_events_and_a_leaver_stops_receiving(webs, room):
    ann, bob, roomid = room
    ann_stream, bob_stream = Stream(webs[1], roomid, ann.cookie), Stream(webs[0], roomid, bob.cookie)
    ann_stream.block(), bob_stream.block()
    carol = User(webs[1])
    carol.act(webs[0], "enter", roomid)
    for stream in (ann_stream, bob_stream):
        entered = stream.events_until(lambda b: b.get("event") == "enter")[-1]
        assert entered["data"]["u"] == carol.user and entered["data"]["t"].endswith("Z")
    bob.act(webs[1], "leave", roomid)
    rest = [b for b in bob_stream.rest() if "comment" not in b]
    assert [(b["event"], b["data"]["u"]) for b in rest] == [("leave", bob.user)]
    assert ann_stream.events_until(lambda b: b.get("event") == "leave")[-1]["data"]["u"] == bob.user
    carol.say(webs[0], roomid, "still here")
    assert ann_stream.message_ids_through(1) == [1]
    ann_stream.close(), bob_stream.close()


def test_open_streams_per_user_are_limited_across_processes(webs, room):
    ann, _, roomid = room
    held = [Stream(webs[i % 2], roomid, ann.cookie) for i in range(5)]
    assert [s.status for s in held] == [200] * 5
    refused = Stream(webs[1], roomid, ann.cookie)
    assert refused.status == 429
    assert 1 <= int(refused.response.getheader("Retry-After")) <= 90
    assert "too many open streams" in refused.json()["error"]
    refused.close()
    held.pop().close()  # the server notices the hang-up within about a second and frees the place
    deadline = time.monotonic() + 5
    while True:
        again = Stream(webs[0], roomid, ann.cookie)
        if again.status == 200 or time.monotonic() > deadline:
            break
        again.close()
        time.sleep(0.2)
    assert again.status == 200
    for stream in held + [again]:
        stream.close()


def test_streams_end_after_their_longest_life_and_a_full_process_refuses_more(shared_settings, room):
    ann, _, roomid = room
    web = Web(
        shared_settings,
        shared_settings.data_dir,
        HEARTBEAT_SECONDS="0.5",
        STREAM_MAX_SECONDS="2",
        STREAMS_PER_USER="10",
        WEB_THREADS=str(RESERVED_THREADS + 2),
    )
    try:
        started = time.monotonic()
        held = [Stream(web, roomid, ann.cookie) for _ in range(2)]
        full = Stream(web, roomid, ann.cookie)
        assert full.status == 503 and full.response.getheader("Retry-After") == "3"
        full.close()
        rest = held[0].rest()
        assert {"comment": "ping"} in rest
        assert 2 * LIFE_FROM <= time.monotonic() - started < 5
        for stream in held:
            stream.close()
    finally:
        web.stop()


def test_listeners_catch_up_after_redis_restarts(shared_settings, tmp_path, room):
    own_redis = Redis()
    settings = replace(shared_settings, redis_url=own_redis.url)
    # A long heartbeat: only the catch-up after re-subscribing can bring the missed messages.
    web = Web(settings, tmp_path, HEARTBEAT_SECONDS="60", STREAM_MAX_SECONDS="60")
    writer = Store(settings.mongodb_uri, settings.redis_url)
    ann, bob, roomid = room
    try:
        stream = Stream(web, roomid, ann.cookie)
        stream.block()
        for i in range(1, 4):
            bob.say(web, roomid, f"m{i}")
        assert [int(b["id"]) for b in stream.events_until(lambda b: b.get("id") == "3") if is_message(b)] == [1, 2, 3]
        own_redis.stop()
        for i in range(4, 7):
            writer.messages.post(bob.user, roomid, f"while Redis is away {i}")
        own_redis.start()
        caught_up = stream.events_until(lambda b: b.get("id") == "6")
        assert [int(b["id"]) for b in caught_up if is_message(b)] == [4, 5, 6]
        for i in range(7, 10):
            bob.say(web, roomid, f"m{i}")
        blocks = stream.events_until(lambda b: b.get("id") == "9")
        assert [int(b["id"]) for b in blocks if is_message(b)] == [7, 8, 9]
        stream.close()
    finally:
        writer.close()
        web.stop()
        own_redis.stop()


@contextmanager
def served(app):
    """The app on waitress in a thread of this process, with the production options."""
    options = {**server_options(app.config["chat.settings"]), "host": "127.0.0.1", "port": 0}
    server = waitress.create_server(app, **options)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        wasyncore.close_all(server._map)
        server.task_dispatcher.shutdown(timeout=5)
        thread.join(5)


def test_in_process_mode_delivers_and_resumes(make_app, memory_settings):
    app = make_app(replace(memory_settings, heartbeat_seconds=0.5, web_threads=RESERVED_THREADS + 8))
    with served(app) as server:
        web = SimpleNamespace(port=server.effective_port, url=f"http://127.0.0.1:{server.effective_port}")
        ann = User(web)
        roomid = ann.create(web)
        stream = Stream(web, roomid, ann.cookie)
        assert stream.block() == {"retry": "3000", "id": "0.1"}
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda i: ann.say(web, roomid, f"m{i}"), range(12)))
        assert stream.message_ids_through(12) == list(range(1, 13))
        stream.close()
        ann.say(web, roomid, "missed")
        again = Stream(web, roomid, ann.cookie, headers={"Last-Event-ID": "12"})
        assert again.message_ids_through(13) == [13]
        again.close()


def test_a_listener_that_falls_too_far_behind_is_told_to_catch_up():
    listener = Fanout(MemoryBus()).listen("room")
    for i in range(QUEUE_MAX + 5):
        listener.push("room", Event("message", {"id": i}, i, str(i)))
    missed, events = listener.wait(0)
    assert missed and [event.data["id"] for _, event in events] == list(range(QUEUE_MAX))
    entered = Event("enter", {"u": "ann@example.com"}, QUEUE_MAX + 5, "1.1005")
    listener.push("room", entered)
    assert listener.wait(0) == (False, [("room", entered)])


def test_the_procfile_serves_with_the_sized_options():
    """The Procfile's waitress-serve flags are server_options(), so `make run` and production agree."""
    web = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    assert web.endswith("--call chat:create_web_app")  # create_web_app() tunes the process like serve()
    flags = dict(re.findall(r"--([a-z-]+)(?:=(\S+))?", web))
    options = server_options(Settings())
    for name, value in options.items():
        flag = name.replace("_", "-")
        assert flag in flags, f"the Procfile does not set {flag}"
        given = re.sub(r"\$\{\w+:-(\w+)\}", r"\1", flags[flag])  # ${VAR:-default}: the default
        arithmetic = re.fullmatch(r"\$\(\((\d+)\+(\d+)\)\)", given)  # $((a+b))
        if arithmetic:
            given = str(int(arithmetic.group(1)) + int(arithmetic.group(2)))
        assert given == ("" if isinstance(value, bool) else str(value)), flag
    assert 1000 + RESERVED_THREADS <= options["threads"] < options["connection_limit"]
    assert options["channel_request_lookahead"] >= 1  # without it waitress never notices a client hang up


def test_joins_and_leaves_while_away_are_replayed_in_order_exactly_once(webs, room):
    ann, bob, roomid = room
    carol = User(webs[1])
    first = Stream(webs[0], roomid, ann.cookie)
    start = first.block()["id"]
    ann.say(webs[0], roomid, "before")
    seen = first.events_until(lambda b: is_message(b))[-1]["id"]
    first.close()
    carol.act(webs[1], "enter", roomid)
    ann.say(webs[1], roomid, "while away")
    bob.act(webs[0], "leave", roomid)
    for point in (seen, start):  # a message's id, and the stream's own starting point
        again = Stream(webs[1], roomid, ann.cookie, headers={"Last-Event-ID": point})
        assert again.block()["id"] == point
        blocks = again.events_until(lambda b: b.get("event") == "leave")
        replayed = [(b["event"], b["data"].get("u"), b["data"].get("m")) for b in blocks if "event" in b]
        expected = [("enter", carol.user, None), ("message", ann.user, "while away"), ("leave", bob.user, None)]
        assert replayed == ([] if point == seen else [("message", ann.user, "before")]) + expected
        ids = [b["id"] for b in blocks if "event" in b]
        assert len(set(ids)) == len(ids)
        assert all("." in b["id"] for b in blocks if b.get("event") in ("enter", "leave"))
        # Resuming from the last replayed id sends nothing again.
        later = Stream(webs[0], roomid, ann.cookie, headers={"Last-Event-ID": ids[-1]})
        assert later.block()["id"] == ids[-1]
        carol.say(webs[0], roomid, "live")
        assert [b["data"]["m"] for b in later.events_until(is_message) if is_message(b)] == ["live"]
        later.close()
        again.close()
