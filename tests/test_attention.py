"""Attention: read markers, unread and mention counts in the room listing, and GET /v1/mentions."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pymongo
import pytest

from store.attention import DELS_KEPT, deleted_update
from tests.helpers import act, create


def listing(client) -> dict:
    return {room["roomid"]: room for room in client.get(f"/v1/room/{client.user}").json["join_rooms"]}


def say(client, roomid, text):
    return client.post_json(f"/v1/logs/{roomid}", {"m": text}, status=201).json


def read(client, roomid, message_id, status=200):
    return client.post_json(f"/v1/rooms/{roomid}/read", {"id": message_id}, status=status).json


def test_unread_counts_move_with_the_marker_and_never_count_ones_own(new_user):
    ann, bob = new_user(), new_user()
    roomid = create(ann, "Launch")
    act(bob, "enter", roomid)
    assert listing(bob)[roomid] | {} == listing(bob)[roomid]
    for i in range(5):
        say(ann, roomid, f"m{i}")
    room = listing(bob)[roomid]
    assert (room["unread"], room["mentions"], room["read"]) == (5, 0, 0)
    assert room["last_message"].endswith("Z")
    assert listing(ann)[roomid]["unread"] == 0  # posting moves the poster's marker
    assert read(bob, roomid, 3) == {"read": 3}
    assert listing(bob)[roomid]["unread"] == 2
    assert read(bob, roomid, 1) == {"read": 3}  # only forward
    assert read(bob, roomid, 999) == {"read": 5}  # at most the newest
    assert listing(bob)[roomid]["unread"] == 0
    say(ann, roomid, "new")
    say(bob, roomid, "my answer")  # answering reads the room
    assert listing(bob)[roomid]["unread"] == 0 and listing(ann)[roomid]["unread"] == 1


def test_a_newcomer_has_no_unread_history_and_a_form_may_send_the_id(new_user):
    ann, bob = new_user(), new_user()
    roomid = create(ann)
    for i in range(3):
        say(ann, roomid, f"before {i}")
    act(bob, "enter", roomid)
    assert listing(bob)[roomid]["unread"] == 0
    say(ann, roomid, "after")
    assert listing(bob)[roomid]["unread"] == 1
    assert bob.post(f"/v1/rooms/{roomid}/read", {"id": "4"}).json == {"read": 4}


def test_mentions_are_counted_exactly_and_listed_newest_first(new_user):
    ann, bob, carol = new_user(), new_user(), new_user()
    roomid, other = create(ann, "one"), create(ann, "two")
    for room in (roomid, other):
        act(bob, "enter", room)
    say(ann, roomid, f"hey @{bob.user} look")
    say(ann, roomid, f"and <@{bob.user.upper()}> again")
    say(ann, roomid, f"@{carol.user} is not here")  # a non-member: nobody is notified
    say(ann, other, "@room lunch?")
    say(ann, other, f"me@{bob.user.split('@')[1]} is not a mention of anyone")
    counts = listing(bob)
    assert (counts[roomid]["unread"], counts[roomid]["mentions"]) == (3, 2)
    assert (counts[other]["unread"], counts[other]["mentions"]) == (2, 1)
    assert listing(ann)[other]["mentions"] == 0  # @room does not notify its author
    page = bob.get("/v1/mentions?limit=2").json
    assert [m["message"]["m"] for m in page["mentions"]] == ["@room lunch?", f"and <@{bob.user.upper()}> again"]
    assert {m["roomid"] for m in page["mentions"]} == {roomid, other}
    rest = bob.get(f"/v1/mentions?limit=2&before={page['next']}").json
    assert [m["message"]["m"] for m in rest["mentions"]] == [f"hey @{bob.user} look"] and rest["next"] is None
    act(bob, "leave", other)  # rooms left drop out
    assert [m["roomid"] for m in bob.get("/v1/mentions").json["mentions"]] == [roomid, roomid]
    assert carol.get("/v1/mentions").json == {"mentions": [], "next": None}


def test_deleted_messages_are_neither_unread_nor_mentions(new_user, settings):
    ann, bob = new_user(), new_user()
    roomid = create(ann)
    act(bob, "enter", roomid)
    say(ann, roomid, f"@{bob.user} one")
    say(ann, roomid, "two")
    say(ann, roomid, "three")
    db = pymongo.MongoClient(settings.mongodb_uri).get_default_database()
    # As a message deletion leaves it: a tombstone without text or mentions, recorded on the room.
    for message_id in (1, 3):
        db.messages.update_one(
            {"room": roomid, "id": message_id}, {"$set": {"deleted": True}, "$unset": {"m": "", "mentions": ""}}
        )
        db.rooms.update_one({"_id": roomid}, deleted_update(message_id))
        db.mentions.delete_many({"room": roomid, "id": message_id})
    assert (listing(bob)[roomid]["unread"], listing(bob)[roomid]["mentions"]) == (1, 0)
    assert bob.get("/v1/mentions").json["mentions"] == []


def test_counts_are_exact_under_concurrent_posts(new_user):
    ann, bob, carol = new_user(), new_user(), new_user()
    roomid = create(ann)
    for user in (bob, carol):
        act(user, "enter", roomid)
    start = threading.Barrier(2)

    def burst(writer, n):
        start.wait()
        for i in range(n):
            say(writer, roomid, f"@{carol.user} {i}" if i % 3 == 0 else f"plain {i}")

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(burst, (ann, bob), (12, 9)))
    assert (listing(carol)[roomid]["unread"], listing(carol)[roomid]["mentions"]) == (21, 4 + 3)


def test_reading_follows_the_rules_of_the_room(new_user, client):
    ann, bob = new_user(), new_user()
    roomid = create(ann)
    assert read(bob, roomid, 1, status=403) == {"error": "you are not a member of this room"}
    assert read(bob, "nosuchroom", 1, status=404) == {"error": "no such room"}
    client.post_json(f"/v1/rooms/{roomid}/read", {"id": 1}, status=401)


@pytest.mark.parametrize("value", [-1, 1.5, "1e3", "x", None, True, [1], {"$gt": 0}, 10**11, "\u0661"])
def test_a_read_marker_must_be_a_message_id(new_user, value):
    ann = new_user()
    roomid = create(ann)
    assert "id must be a message id" in read(ann, roomid, value, status=400)["error"]


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=x", "before=1", "before=1.a.b", "before=%00"])
def test_mentions_paging_is_checked(new_user, query):
    assert new_user().get(f"/v1/mentions?{query}", status=400).json["error"]


def test_unread_stays_exact_past_the_deletions_a_room_keeps(new_user, settings):
    ann, bob = new_user(), new_user()
    roomid = create(ann)
    act(bob, "enter", roomid)
    db = pymongo.MongoClient(settings.mongodb_uri).get_default_database()
    total = DELS_KEPT + 20
    docs = [
        {"room": roomid, "id": i, "ev": 2 + i, "u": ann.user, "t": db.rooms.find_one()["created"]}
        for i in range(1, total + 1)
    ]
    db.messages.insert_many(docs)
    db.timelines.update_one({"_id": roomid}, {"$set": {"seq": total, "ev": 2 + total}})
    for message_id in range(1, total + 1, 2):  # every other one deleted
        db.messages.update_one({"room": roomid, "id": message_id}, {"$set": {"deleted": True}})
        db.rooms.update_one({"_id": roomid}, deleted_update(message_id))
    assert listing(bob)[roomid]["unread"] == total // 2
