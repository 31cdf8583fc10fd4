"""One ordered, resumable timeline with messages that change: two real web processes, one database, one Redis.

Edits, deletions and reactions join messages, enters and leaves in the room's one order; a client away while
they happen resumes from any id it was given and gets each exactly once, in order. Concurrent changes from
threads on both processes serialize on the room: nothing is lost, counted twice or left half done."""

import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pymongo
import pytest

from settings import Settings
from tests.helpers import QUICK, Stream, User, Web

TIMELINE_DB = "chat_timeline"
KINDS = ("message", "edit", "delete", "react", "enter", "leave")


@pytest.fixture(scope="module")
def shared_settings(mongo_server, redis_server, tmp_path_factory) -> Settings:
    with pymongo.MongoClient(mongo_server.uri(TIMELINE_DB)) as client:
        client.drop_database(TIMELINE_DB)
    return Settings(
        mongodb_uri=mongo_server.uri(TIMELINE_DB),
        redis_url=redis_server.url,
        data_dir=tmp_path_factory.mktemp("timeline"),
    )


@pytest.fixture(scope="module")
def webs(shared_settings):
    env = {**QUICK, "STREAMS_PER_USER": "100"}  # replays open many short streams
    started = [Web(shared_settings, shared_settings.data_dir, **env) for _ in range(2)]
    yield started
    for web in started:
        web.stop()


@pytest.fixture(scope="module")
def db(shared_settings):
    with pymongo.MongoClient(shared_settings.mongodb_uri) as client:
        yield client.get_default_database()


@pytest.fixture
def room(webs):
    """(ann, bob, roomid): two members of a new room."""
    ann, bob = User(webs[0]), User(webs[0])
    roomid = ann.create(webs[0])
    bob.act(webs[0], "enter", roomid)
    return ann, bob, roomid


def call(user, web, method, path, body=None, statuses=(200,)):
    """A request whose status must be one of `statuses`; (status, body)."""
    answer = user.http.request(method, web.url + path, json=body, timeout=20)
    assert answer.status_code in statuses, answer.text
    return answer.status_code, answer.json()


def reaction_path(roomid, number, emoji="👍"):
    return f"/v1/logs/{roomid}/{number}/reactions/{quote(emoji)}"


def timeline(web, user, roomid, after="0", until=None):
    """Every event of the room after `after` as (kind, data, id), read by a stream's replay."""
    stream = Stream(web, roomid, user.cookie, query=f"?after={after}")
    assert stream.status == 200
    stream.block()  # retry and the starting id
    events = []
    while True:
        block = stream.block()
        assert block is not None
        if "comment" in block:  # a heartbeat: the replay is over
            break
        events.append((block["event"], block["data"], block["id"]))
        if until is not None and until(events[-1]):
            break
    stream.close()
    return events


def test_a_client_away_while_others_edit_delete_and_react_resumes_with_each_once_in_order(webs, room):
    ann, bob, roomid = room
    carol = User(webs[1])
    live = Stream(webs[0], roomid, ann.cookie)
    start = live.block()["id"]
    ann.say(webs[0], roomid, "before")
    seen = live.events_until(lambda b: b.get("event") == "message")[-1]["id"]
    live.close()
    # While ann is away, through both processes:
    bob.say(webs[1], roomid, "typo")  # 2
    bob.say(webs[0], roomid, "gone soon")  # 3
    bob.call(webs[0], "patch", f"/v1/logs/{roomid}/2", {"m": "fixed"})
    carol.act(webs[1], "enter", roomid)
    carol.call(webs[1], "put", reaction_path(roomid, 2))
    carol.call(webs[1], "put", reaction_path(roomid, 2))  # a retry: no event
    bob.call(webs[0], "delete", f"/v1/logs/{roomid}/3")
    bob.call(webs[1], "delete", f"/v1/logs/{roomid}/3")  # a retry: no event
    carol.call(webs[0], "delete", reaction_path(roomid, 2))
    ann.call(webs[1], "patch", f"/v1/logs/{roomid}/1", {"m": "before, edited"})
    bob.act(webs[0], "leave", roomid)
    expected = [
        ("message", 2),
        ("message", 3),
        ("edit", 2),
        ("enter", carol.user),
        ("react", True),
        ("delete", 3),
        ("react", False),
        ("edit", 1),
        ("leave", bob.user),
    ]

    def summary(kind, data):
        if kind in ("enter", "leave"):
            return kind, data["u"]
        return kind, data["added"] if kind == "react" else data["id"]

    for point, earlier in ((seen, []), (start, [("message", 1)])):
        for web in webs:
            events = timeline(web, ann, roomid, after=point, until=lambda e: e[0] == "leave")
            assert [summary(kind, data) for kind, data, _ in events] == earlier + expected
            ids = [event_id for _, _, event_id in events]
            assert len(set(ids)) == len(ids)
            positions = [int(i.split(".")[1]) if "." in i else None for i in ids]
            known = [p for p in positions if p is not None]
            assert known == sorted(known)
            # Replays show messages as they are now: no deleted text comes back.
            shown = {data["id"]: data for kind, data, _ in events if kind in ("message", "edit")}
            assert shown[2]["m"] == "fixed" and "edited" in shown[2]
            assert shown[3] == {"id": 3, "u": bob.user, "t": shown[3]["t"], "deleted": True}
            # Resuming from any id replayed sends exactly what came after it.
            middle = len(events) // 2
            rest = timeline(webs[1], ann, roomid, after=ids[middle], until=lambda e: e[0] == "leave")
            assert [e[2] for e in rest] == ids[middle + 1 :]


def test_a_live_stream_gets_every_change_once_in_order(webs, room):
    ann, bob, roomid = room
    streams = [Stream(web, roomid, ann.cookie) for web in webs]
    for stream in streams:
        stream.block()
    bob.say(webs[0], roomid, "hello")
    bob.call(webs[1], "patch", f"/v1/logs/{roomid}/1", {"m": "hello!"})
    ann.call(webs[0], "put", reaction_path(roomid, 1, "🎉"))
    bob.call(webs[1], "delete", f"/v1/logs/{roomid}/1")
    for stream in streams:
        blocks = stream.events_until(lambda b: b.get("event") == "delete")
        got = [(b["event"], b["data"]) for b in blocks if "event" in b]
        assert [kind for kind, _ in got] == ["message", "edit", "react", "delete"]
        assert got[1][1]["m"] == "hello!" and "edited" in got[1][1]
        assert got[2][1]["reactions"] == [{"emoji": "🎉", "count": 1, "users": [ann.user]}]
        assert got[2][1]["u"] == ann.user and got[2][1]["emoji"] == "🎉" and got[2][1]["added"] is True
        assert got[3][1] == {"id": 1, "u": bob.user, "t": got[0][1]["t"], "deleted": True}
        stream.close()


def at_once(*calls):
    """Run the calls together from threads; their results in order."""
    barrier = threading.Barrier(len(calls))

    def run(fn):
        barrier.wait()
        return fn()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_edit_against_delete(webs, room, db):
    ann, bob, roomid = room
    for i in range(1, 7):
        ann.say(webs[0], roomid, f"secret {i}")
        edited, deleted = at_once(
            lambda i=i: call(ann, webs[i % 2], "patch", f"/v1/logs/{roomid}/{i}", {"m": f"edited {i}"}, (200, 409)),
            lambda i=i: call(ann, webs[(i + 1) % 2], "delete", f"/v1/logs/{roomid}/{i}"),
        )
        assert deleted[1]["deleted"] is True
        doc = db.messages.find_one({"room": roomid, "id": i})
        assert doc["deleted"] is True and "m" not in doc
        assert db.activity.find_one({"_id": doc["act"]})["m"] == ""
    kinds = [(kind, data["id"]) for kind, data, _ in timeline(webs[1], ann, roomid) if kind in ("edit", "delete")]
    for i in range(1, 7):
        mine = [kind for kind, number in kinds if number == i]
        assert mine in (["edit", "delete"], ["delete"])  # an edit after the deletion was refused (409)


def test_two_edits_the_later_wins_and_no_reaction_is_lost(webs, room):
    ann, bob, roomid = room
    users = [bob] + [User(webs[i % 2]) for i in range(5)]
    for user in users[1:]:
        user.act(webs[0], "enter", roomid)
    ann.say(webs[0], roomid, "draft")
    live = Stream(webs[1], roomid, ann.cookie)
    live.block()
    emoji = ["👍", "🎉", "❤️", "😀", "🚀", "👀"]
    at_once(
        lambda: ann.call(webs[0], "patch", f"/v1/logs/{roomid}/1", {"m": "first edit"}),
        lambda: ann.call(webs[1], "patch", f"/v1/logs/{roomid}/1", {"m": "second edit"}),
        *[
            lambda u=u, e=e, i=i: u.call(webs[i % 2], "put", reaction_path(roomid, 1, e))
            for i, (u, e) in enumerate(zip(users, emoji, strict=True))
        ],
    )
    now = ann.call(webs[1], "get", f"/v1/logs/{roomid}")["logs"][0]
    counts = {"edit": 0, "react": 0}

    def done(block):
        counts[block.get("event")] = counts.get(block.get("event"), 0) + 1
        return counts["edit"] == 2 and counts["react"] == len(emoji)

    blocks = [b for b in live.events_until(done) if b.get("event") in ("edit", "react")]
    live.close()
    # The edit that took the later position is the text that stands, with every reaction.
    assert [b["data"]["m"] for b in blocks if b["event"] == "edit"][-1] == now["m"]
    assert sorted(r["emoji"] for r in now["reactions"]) == sorted(emoji)
    assert all(r["count"] == 1 for r in now["reactions"])
    # Each reaction event carries the reactions as they were then: one more each time.
    assert [len(b["data"]["reactions"]) for b in blocks if b["event"] == "react"] == list(range(1, 7))


def test_ten_users_toggling_one_reaction_at_once_count_exactly(webs, room, db):
    ann, bob, roomid = room
    users = [User(webs[i % 2]) for i in range(10)]
    for user in users:
        user.act(webs[0], "enter", roomid)
    ann.say(webs[0], roomid, "vote")
    path = reaction_path(roomid, 1)

    def toggle(i):
        user, web = users[i], webs[i % 2]
        for method in ("put", "put", "delete", "put", "delete", "delete", "put"):  # ends on; retries included
            user.call(web, method, path)

    at_once(*[lambda i=i: toggle(i) for i in range(10)])
    reactions = ann.call(webs[1], "get", f"/v1/logs/{roomid}")["logs"][0]["reactions"]
    assert len(reactions) == 1 and reactions[0]["count"] == 10
    stored = db.messages.find_one({"room": roomid, "id": 1})["reactions"][0]["u"]
    assert sorted(stored) == sorted(u.user for u in users)
    # Each change was one event (the retries none): 5 changes per user; the counts go up and down by one.
    counts = [
        len(data["reactions"]) and data["reactions"][0]["count"]
        for kind, data, _ in timeline(webs[0], ann, roomid)
        if kind == "react"
    ]
    assert len(counts) == 50
    assert all(abs(b - a) == 1 for a, b in zip([0, *counts], counts, strict=False))
    assert counts[-1] == 10


def test_a_reaction_or_a_reply_racing_a_deletion(webs, room, db):
    ann, bob, roomid = room
    for i in range(1, 6):
        number = ann.say(webs[0], roomid, f"target {i}")["id"]
        reacted, replied, deleted = at_once(
            lambda n=number: call(bob, webs[0], "put", reaction_path(roomid, n), statuses=(200, 409)),
            lambda n=number: call(bob, webs[1], "post", f"/v1/logs/{roomid}", {"m": "re", "reply_to": n}, (201,)),
            lambda n=number: call(ann, webs[1], "delete", f"/v1/logs/{roomid}/{n}"),
        )
        assert deleted[1]["deleted"] is True
        doc = db.messages.find_one({"room": roomid, "id": number})
        assert doc["deleted"] is True and "reactions" not in doc and "m" not in doc
        if reacted[0] == 409:
            assert reacted[1] == {"error": "the message was deleted"}
        reply = ann.call(webs[0], "get", f"/v1/logs/{roomid}?after={replied[1]['id'] - 1}&limit=1")["logs"][0]
        assert reply["reply_to"] == {"id": number, "u": ann.user, "deleted": True}


def test_posts_racing_their_authors_leave_all_come_before_it(webs, room, db):
    """A post reads the membership, then takes its id from the room's head; a leave moves the same head. Posts
    from both processes while the author leaves: every stored one is before the leave in the timeline, and
    every one refused is refused as from a non-member."""
    ann, bob, roomid = room
    posting, left = threading.Event(), threading.Event()

    def post(web):
        answers = []
        while (not answers or answers[-1] == 201) and len(answers) < 300:
            answers.append(call(bob, web, "post", f"/v1/logs/{roomid}", {"m": "still here?"}, (201, 403))[0])
            posting.set()
            if left.is_set() and answers[-1] == 201:
                answers.append(call(bob, web, "post", f"/v1/logs/{roomid}", {"m": "after"}, (201, 403))[0])
        return answers

    def leave():
        assert posting.wait(20)  # the posters are under way
        call(bob, webs[1], "post", "/v1/room", {"userid": bob.user, "action": "leave", "roomid": roomid})
        left.set()

    for _ in range(3):
        answers = at_once(*[lambda i=i: post(webs[i % 2]) for i in range(4)], leave)[:4]
        assert all(a[-1] == 403 and set(a[:-1]) <= {201} for a in answers)
        gone = max(d["ev"] for d in db.events.find({"room": roomid, "kind": "leave", "d.u": bob.user}))
        stored = [d["ev"] for d in db.messages.find({"room": roomid, "u": bob.user})]
        assert stored and max(stored) < gone
        bob.act(webs[0], "enter", roomid)
        db.messages.delete_many({"room": roomid, "u": bob.user})
        posting.clear()
        left.clear()


def test_member_views_follow_every_change_of_membership_on_the_other_process_at_once(webs, room):
    """Each process keeps what it read of a member's room (store/rooms.py MemberViews) by the head's membership
    number: a leave, an entering, a room made private through one process hold on the other at its very next
    request, with no wait and no message between them."""
    ann, bob, roomid = room
    page, logs = f"/v1/logs/{roomid}", {"userid": bob.user, "roomid": roomid}

    def seen(web) -> tuple[int, int]:
        """(status of bob's page, status of bob's post) on that process."""
        return (
            call(bob, web, "get", page, statuses=(200, 400, 403))[0],
            call(bob, web, "post", page, {"m": "hi"}, (201, 400, 403))[0],
        )

    assert [seen(web) for web in webs] == [(200, 201)] * 2  # both processes hold bob's view now
    call(bob, webs[0], "post", "/v1/room", {**logs, "action": "leave"})
    assert seen(webs[1]) == (403, 403)
    call(bob, webs[0], "post", "/v1/room", {**logs, "action": "enter"})
    assert seen(webs[1]) == (200, 201)
    call(ann, webs[0], "patch", f"/v1/rooms/{roomid}", {"visibility": "private"})
    assert seen(webs[1]) == (200, 201)
    call(bob, webs[0], "post", "/v1/room", {**logs, "action": "leave"})
    assert seen(webs[1]) == (400, 400)  # a private room one is not in does not exist
