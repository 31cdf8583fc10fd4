"""The process's check for lost publishes (store/fanout.py), on the real database: a timeline whose newest
position never came over the bus within a check period, or a room gone while listened to, tells its
listeners they missed something; what did come, and what is in flight, never does."""

import bottle
import pytest

from routes.events import event_stream
from routes.user_stream import UserStream
from store import Store
from store import db as dbmod
from store.feed import FEED, user_key
from tests.helpers import Commands


@pytest.fixture
def commands(monkeypatch) -> Commands:
    """The database commands the store sends."""
    sent = Commands()
    connect = dbmod.connect
    monkeypatch.setattr(dbmod, "connect", lambda uri, **options: connect(uri, event_listeners=[sent], **options))
    return sent


@pytest.fixture
def store(memory_settings, commands):
    made = Store(memory_settings.mongodb_uri, None, heartbeat_seconds=3600)  # checks run by hand here
    yield made
    made.close()


def missed(listener) -> bool:
    flagged, _ = listener.wait(0)
    return flagged


def test_a_lost_publish_is_found_at_the_second_look_and_only_then(store, monkeypatch):
    roomid = store.rooms.create("ann@example.com", "checked")
    listener = store.fanout.listen(roomid, FEED, user_key("ann@example.com"))
    assert store.fanout.check() == []  # the first look takes the room as it stands
    store.messages.post("ann@example.com", roomid, "heard")
    assert store.fanout.check() == [] and not missed(listener)
    monkeypatch.setattr(store.bus, "publish", lambda *args: None)  # the committer died before sending
    store.messages.post("ann@example.com", roomid, "lost")
    assert store.fanout.check() == []  # it may still be on its way
    assert store.fanout.check() == [roomid] and missed(listener)
    assert store.fanout.check() == [] and not missed(listener)  # told once
    listener.close()


def test_a_publish_lost_before_the_first_look_is_found_from_where_a_listener_stood(store, monkeypatch):
    roomid = store.rooms.create("ann@example.com", "checked")
    listener = store.fanout.listen(roomid)
    listener.stands(roomid, store.rooms.positions([roomid])[roomid])  # what a stream reads after listening
    monkeypatch.setattr(store.bus, "publish", lambda *args: None)
    store.messages.post("ann@example.com", roomid, "lost at once")
    assert store.fanout.check() == []
    assert store.fanout.check() == [roomid] and missed(listener)
    listener.close()


def through_start(stream) -> None:
    """Run a stream through its start (reads, frames, a user stream's reconciliation) to its first idle wait."""
    bottle.response.bind()
    for text in stream:
        if text == "":  # a heartbeat not yet due: the stream is waiting on its queue
            return


STREAMS = pytest.mark.parametrize(
    "open_stream",
    [
        lambda store, settings, user, roomid: event_stream(store, settings, user, roomid, None, lambda: False),
        lambda store, settings, user, roomid: UserStream(store, user).run(settings, None, lambda: False),
    ],
    ids=["room stream", "user stream"],
)


@STREAMS
def test_a_stream_alone_on_a_room_is_told_of_a_publish_lost_before_the_first_look(
    store, memory_settings, monkeypatch, open_stream
):
    """The check counts from where the stream's start read the room, after it began listening."""
    roomid = store.rooms.create("ann@example.com", "alone")
    stream = open_stream(store, memory_settings, "ann@example.com", roomid)
    try:
        through_start(stream)  # it read where the room stands after it began listening
        monkeypatch.setattr(store.bus, "publish", lambda *args: None)
        store.messages.post("ann@example.com", roomid, "lost")
        assert store.fanout.check() == []  # the first look, after the loss
        assert store.fanout.check() == [roomid] and '"m":"lost"' in next(stream)
    finally:
        stream.close()


@STREAMS
def test_a_stream_that_starts_past_a_lost_publish_does_not_hide_it_from_the_key_s_other_listeners(
    store, memory_settings, monkeypatch, open_stream
):
    """A stream's start reads where the room stands, past a publish lost before it: that covers the lost event
    for that stream only, so the room's other listeners in the process are still told at the second look."""
    roomid = store.rooms.create("ann@example.com", "shared")
    first = store.fanout.listen(roomid)
    store.messages.post("ann@example.com", roomid, "heard")
    assert store.fanout.check() == [] and not missed(first)
    monkeypatch.setattr(store.bus, "publish", lambda *args: None)
    store.messages.post("ann@example.com", roomid, "lost")
    second = open_stream(store, memory_settings, "ann@example.com", roomid)
    try:
        through_start(second)
        assert store.fanout.check() == []  # it may still be on its way
        assert store.fanout.check() == [roomid] and missed(first)
    finally:
        second.close()
        first.close()


def test_a_room_deleted_unheard_and_the_feed_are_checked_and_user_channels_are_not(store, monkeypatch):
    roomid = store.rooms.create("ann@example.com", "doomed")
    listener = store.fanout.listen(roomid, FEED, user_key("ann@example.com"))
    store.fanout.check()
    monkeypatch.setattr(store.bus, "publish", lambda *args: None)
    store.rooms.leave("ann@example.com", roomid)  # the last member: the room and its public listing go
    store.fanout.check()
    assert sorted(store.fanout.check()) == sorted([roomid, FEED]) and missed(listener)
    listener.close()
    assert store.fanout.check() == []  # nobody listens: nothing is kept for it


def test_the_check_reads_the_database_once_per_fifty_rooms(store, commands):
    rooms = [store.rooms.create("ann@example.com", f"room {i}") for i in range(120)]
    listeners = [store.fanout.listen(roomid, FEED) for roomid in rooms]
    assert commands.during(store.fanout.check) == [("find", "timelines")] * 3 + [("find", "counters")]
    for listener in listeners:
        listener.close()
