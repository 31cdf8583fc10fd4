"""Database round trips of the hot routes, counted exactly by a pymongo CommandListener: a regression shows here.

Each command pymongo sends is one round trip. README "Speed" says why each of a post's stays.
"""

import time

import bottle
import pytest
import redis
import webtest

from chat import create_app
from routes.user_stream import UserStream
from store import db as dbmod
from tests.helpers import PASSWORD, Commands, create

ANN = "ann@example.com"
BOB = "bob@example.com"


@pytest.fixture(params=["redis", "memory"])
def counted(request, settings, memory_settings, monkeypatch):
    """(app, client logged in as ann, commands): the production shape (Redis) and the embedded one (none)."""
    commands = Commands()
    connect = dbmod.connect
    monkeypatch.setattr(dbmod, "connect", lambda uri, **options: connect(uri, event_listeners=[commands], **options))
    app = create_app(settings if request.param == "redis" else memory_settings)
    client = webtest.TestApp(app)
    client.post_json("/auth/register", {"username": ANN, "password": PASSWORD}, status=201)
    client.user = ANN
    yield app, client, commands
    app.config["chat.store"].close()


def trusted_cache(app) -> None:
    """Wait until the session cache's subscription is confirmed (at once without Redis)."""
    cache = app.config["chat.store"].session_cache
    deadline = time.monotonic() + 10
    while not cache.trusted():
        assert time.monotonic() < deadline, "the session cache's subscription was never confirmed"
        time.sleep(0.05)


# A post: the activity id (a counter outside the transaction, so posts never conflict on it; taken before the
# room's lock), the room's head's next id (store/timeline.py; membership from the process's member view at the
# head's membership number, store/rooms.py MemberViews), the activity entry, the message with its search terms
# (store/search.py keeps them on the message), the poster's read marker, the commit. A word the process has
# not seen in the vocabulary adds one insert into `words` (outside the transaction), and at most once a second
# the vocabulary's generation is read (`find counters`): neither comes with words it knows, as here.
POST = [
    ("findAndModify", "counters"),
    ("findAndModify", "timelines"),
    ("insert", "activity"),
    ("insert", "messages"),
    ("update", "reads"),
    ("commitTransaction", None),
]
# A page the process has read before: the room's head (newest id, changes, membership number), nothing else.
GET = [("find", "timelines")]


def test_round_trips_of_a_post_and_of_a_page(counted):
    app, ann, commands = counted
    roomid = create(ann)
    for _ in range(3):
        ann.post_json(f"/v1/logs/{roomid}", {"m": "hello world"}, status=201)  # the words are known from here on
    ann.get(f"/v1/logs/{roomid}", status=200)
    trusted_cache(app)
    ann.get("/auth/me", status=200)  # the session, read now that the cache is trusted: held from here on

    posted = commands.during(lambda: ann.post_json(f"/v1/logs/{roomid}", {"m": "hello world"}, status=201))
    assert [command for command in posted if command != ("find", "counters")] == POST
    read = commands.during(lambda: ann.get(f"/v1/logs/{roomid}", status=200))
    assert read == GET
    assert ann.get(f"/v1/logs/{roomid}").json["logs"][-1]["m"] == "hello world"


def test_a_post_queues_a_push_task_only_where_a_member_can_be_pushed_to(settings, make_app):
    """No member with a push subscription: no task. One: a task for each post, also in rooms joined later."""
    app = make_app(settings)
    store = app.config["chat.store"]
    queue = redis.Redis.from_url(settings.redis_url)
    ann, bob = webtest.TestApp(app), webtest.TestApp(app)
    for client, user in ((ann, ANN), (bob, BOB)):
        client.post_json("/auth/register", {"username": user, "password": PASSWORD}, status=201)
        client.user = user
    quiet, later = create(ann), create(ann)
    bob.post_json("/v1/room", {"userid": BOB, "action": "enter", "roomid": quiet}, status=200)

    def queued_by(client, roomid) -> int:
        before = queue.llen("celery")
        client.post_json(f"/v1/logs/{roomid}", {"m": "news"}, status=201)
        return queue.llen("celery") - before

    assert queued_by(ann, quiet) == 0
    store.push.save(BOB, "https://push.example.com/bob", "p256dh", "auth", previews=False)
    assert queued_by(ann, quiet) == 1  # bob's subscription flagged the rooms he is in
    assert queued_by(ann, later) == 0
    bob.post_json("/v1/room", {"userid": BOB, "action": "enter", "roomid": later}, status=200)
    assert queued_by(ann, later) == 1  # bob joined with a subscription
    dm = bob.post_json("/v1/dm", {"userid": ANN}, status=200).json["roomid"]
    assert queued_by(ann, dm) == 1  # a direct message created with him in it


def started(app, user: str, after: str | None = None) -> tuple[list[str], str]:
    """A user stream's start (its frames up to `invitations`) straight from the route's generator, and its first id."""
    bottle.response.bind()
    store, settings = app.config["chat.store"], app.config["chat.settings"]
    stream = UserStream(store, user).run(settings, after, lambda: False)
    frames = []
    for text in stream:
        frames.append(text)
        if "event: invitations" in text:
            frames.append(next(stream))  # what a fresh start reads after its `invitations`; then a second's wait
            break
    stream.close()
    return frames, frames[0].split("id: ")[1].split("\n")[0]


@pytest.mark.parametrize("counted", ["redis"], indirect=True)  # the embedded default aggregates stats meanwhile
def test_round_trips_of_a_user_stream_start(counted):
    """Opening: the user's rooms (and their positions again once it listens to them), the feed's head, the
    checkpoint, the profiles of the people in them, the read markers, the invitations (no invitation: no room
    names to read), and the public list only when no stream of the process read it at this feed position just
    now. A resume names the checkpoint it came from: no write. Nothing grows with the rooms or their history."""
    app, ann, commands = counted
    for _ in range(3):
        create(ann)
    first = commands.during(lambda: started(app, ANN))
    listed = [("find", "counters"), ("find", "timelines"), ("find", "rooms")]  # Rooms.recent: the first room's
    # time, one slice of the heads by activity, then those rooms
    opening = [
        ("find", "rooms"),
        ("find", "timelines"),  # their heads
        ("find", "rooms"),  # their positions again, once it listens to them
        ("find", "timelines"),
        ("find", "counters"),
        ("insert", "checkpoints"),
        ("find", "users"),
        ("find", "reads"),
        ("find", "invites"),
    ]
    # The process's first stream also catches up once its bus subscription is confirmed (it may have missed some).
    assert all(command in first for command in opening + listed)
    ids = []
    second = commands.during(lambda: ids.append(started(app, ANN)[1]))
    assert sorted(second) == sorted(opening)
    resumed = commands.during(lambda: started(app, ANN, ids[0]))
    assert sorted(resumed) == sorted(
        [
            ("find", "checkpoints"),
            ("find", "rooms"),
            ("find", "timelines"),
            ("find", "counters"),
            ("find", "users"),
            ("find", "reads"),
            ("find", "invites"),
        ]
    )


def test_a_replay_of_messages_alone_is_one_read(counted):
    """A stream catching up reads a range of positions: messages first; only when they leave a position empty
    can an event (an edit, a reaction, a join) hold it, and only then are the events read."""
    app, ann, commands = counted
    roomid = create(ann)
    for text in ("one", "two", "three"):
        ann.post_json(f"/v1/logs/{roomid}", {"m": text}, status=201)
    store = app.config["chat.store"]
    positions = sorted(doc["ev"] for doc in store.db.messages.find({"room": roomid}, {"ev": 1}))
    low, high = positions[0], positions[-1]
    replayed = []
    only = commands.during(lambda: replayed.extend(store.timeline.between(roomid, low, high)))
    assert only == [("find", "messages")]
    assert [event.data["m"] for event in replayed] == ["one", "two", "three"]
    message_id = ann.get(f"/v1/logs/{roomid}").json["logs"][0]["id"]
    ann.put(f"/v1/logs/{roomid}/{message_id}/reactions/%F0%9F%91%8D", status=200)
    mixed = commands.during(lambda: replayed.extend(store.timeline.between(roomid, low, high + 1)))
    assert mixed == [("find", "messages"), ("find", "events")]
    assert [event.kind for event in replayed[3:]] == ["message", "message", "message", "react"]
