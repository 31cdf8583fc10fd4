"""Messages that change: PATCH and DELETE /v1/logs/:roomid/:id, reactions, replies, through the WSGI app."""

import json
from urllib.parse import quote

import pymongo
import pytest
import webtest

from store.messages import REACTIONS_MAX, REPLY_SNIPPET, USERS_SHOWN
from tests.helpers import act, assert_clean, create


@pytest.fixture
def talk(new_user):
    """(ann, bob, roomid): two members; ann created the room."""
    ann, bob = new_user(), new_user()
    roomid = create(ann, "talk")
    act(bob, "enter", roomid)
    return ann, bob, roomid


def say(client, roomid, text, status=201, **extra):
    return client.post_json(f"/v1/logs/{roomid}", {"m": text, **extra}, status=status).json


def edit(client, roomid, number, text, status=200):
    return client.patch_json(f"/v1/logs/{roomid}/{number}", {"m": text}, status=status).json


def delete(client, roomid, number, status=200):
    return client.delete(f"/v1/logs/{roomid}/{number}", status=status).json


def react(client, roomid, number, emoji, on=True, status=200):
    path = f"/v1/logs/{roomid}/{number}/reactions/{quote(emoji)}"
    return (client.put(path, status=status) if on else client.delete(path, status=status)).json


def logs(client, roomid, query=""):
    return client.get(f"/v1/logs/{roomid}{query}").json["logs"]


def test_the_author_edits_and_the_page_shows_it(talk):
    ann, bob, roomid = talk
    first = say(ann, roomid, "helo")
    edited = edit(ann, roomid, first["id"], "  hello  ")
    assert edited["m"] == "hello" and edited["id"] == 1 and edited["t"] == first["t"]
    assert edited["edited"].endswith("Z") and edited["edited"] >= first["t"]
    assert logs(bob, roomid) == [edited]
    assert edit(ann, roomid, 1, "hello") == edited  # the same text again: a retry, nothing changes
    assert edit(bob, roomid, 1, "mine now", status=403)["error"]
    assert edit(ann, roomid, 2, "none", status=404) == {"error": "no such message"}
    assert edit(ann, roomid, 1, "   ", status=400)["error"]
    assert edit(ann, roomid, 1, "x" * 4001, status=400)["error"]


def test_refusals_follow_the_rules_of_reading(talk, new_user):
    ann, _, roomid = talk
    say(ann, roomid, "hi")
    carol = new_user()
    assert edit(carol, roomid, 1, "x", status=403)["error"]
    assert delete(carol, roomid, 1, status=403)["error"]
    assert react(carol, roomid, 1, "👍", status=403)["error"]
    for client, status in ((carol, 400), (ann, 400)):
        assert edit(client, "nosuchroom", 1, "x", status=status)["error"] == "no such room"
        assert delete(client, "nosuchroom", 1, status=status)["error"] == "no such room"
        assert react(client, "nosuchroom", 1, "👍", status=status)["error"] == "no such room"
    anonymous = webtest.TestApp(ann.app)
    anonymous.patch_json(f"/v1/logs/{roomid}/1", {"m": "x"}, status=401)
    anonymous.delete(f"/v1/logs/{roomid}/1", status=401)
    anonymous.put(f"/v1/logs/{roomid}/1/reactions/{quote('👍')}", status=401)


MATRIX = {  # who may do what to bob's message in ann's room (ann is its owner); carol is a member
    "edit": {"anonymous": 401, "stranger": 403, "admin": 403, "carol": 403, "ann": 403, "bob": 200},
    "delete": {"anonymous": 401, "stranger": 403, "admin": 200, "carol": 403, "ann": 200, "bob": 200},
    "react": {"anonymous": 401, "stranger": 403, "admin": 403, "carol": 200, "ann": 200, "bob": 200},
    "unreact": {"anonymous": 401, "stranger": 403, "admin": 403, "carol": 200, "ann": 200, "bob": 200},
}


@pytest.mark.parametrize("change", sorted(MATRIX))
def test_authorization_matrix(talk, new_user, settings, change):
    ann, bob, roomid = talk
    carol = new_user()
    act(carol, "enter", roomid)
    with pymongo.MongoClient(settings.mongodb_uri) as client:
        client.get_default_database().rooms.update_one({"_id": roomid}, {"$set": {"owner": ann.user}})
    actors = {
        "anonymous": webtest.TestApp(ann.app),
        "stranger": new_user(),
        "admin": new_user("admin@example.com"),
        "carol": carol,
        "ann": ann,
        "bob": bob,
    }
    for name, status in MATRIX[change].items():
        number = say(bob, roomid, f"for {name}")["id"]
        client = actors[name]
        if change == "edit":
            client.patch_json(f"/v1/logs/{roomid}/{number}", {"m": "changed"}, status=status)
        elif change == "delete":
            delete(client, roomid, number, status=status)
        else:
            react(client, roomid, number, "👍", on=change == "react", status=status)
        shown = logs(bob, roomid)[-1]
        if status != 200:
            assert shown == {"id": number, "m": f"for {name}", "u": bob.user, "t": shown["t"]}, name


def test_delete_leaves_a_tombstone_and_no_text_anywhere(talk, settings, new_user):
    ann, bob, roomid = talk
    say(ann, roomid, "keep")
    secret = say(bob, roomid, "my secret")
    react(ann, roomid, secret["id"], "👍")
    edit(bob, roomid, secret["id"], "my secret, edited")
    stone = {"id": secret["id"], "u": bob.user, "t": secret["t"], "deleted": True}
    carol = new_user()
    act(carol, "enter", roomid)
    assert delete(carol, roomid, secret["id"], status=403)["error"]  # neither its author nor the room's owner
    assert delete(bob, roomid, secret["id"]) == stone
    assert delete(bob, roomid, secret["id"]) == stone  # again: the same answer, nothing changes
    assert logs(ann, roomid)[1] == stone
    assert edit(bob, roomid, secret["id"], "back", status=409) == {"error": "the message was deleted"}
    assert react(ann, roomid, secret["id"], "👍", status=409) == {"error": "the message was deleted"}
    admin = new_user("admin@example.com")
    assert "secret" not in admin.get("/v1/stats?limit=1000").text
    assert "secret" not in bob.get("/v1/stats?limit=1000").text
    with pymongo.MongoClient(settings.mongodb_uri) as client:
        db = client.get_default_database()
        for name in db.list_collection_names():
            for doc in db[name].find():
                assert "secret" not in repr(doc), (name, doc)


def test_the_room_owner_and_an_admin_may_delete(talk, settings, new_user):
    ann, bob, roomid = talk
    for i in range(3):
        say(bob, roomid, f"m{i}")
    with pymongo.MongoClient(settings.mongodb_uri) as client:
        client.get_default_database().rooms.update_one({"_id": roomid}, {"$set": {"owner": ann.user}})
    assert delete(ann, roomid, 1)["deleted"] is True
    admin = new_user("admin@example.com")
    assert delete(admin, roomid, 2)["deleted"] is True  # an admin need not be a member
    assert [m.get("deleted", False) for m in logs(bob, roomid)] == [True, True, False]


def test_reactions_count_name_the_first_users_and_retries_change_nothing(talk, new_user):
    ann, bob, roomid = talk
    say(ann, roomid, "vote")
    assert react(ann, roomid, 1, "👍") == {"id": 1, "reactions": [{"emoji": "👍", "count": 1, "users": [ann.user]}]}
    assert react(ann, roomid, 1, "👍")["reactions"][0]["count"] == 1  # a retry
    others = [new_user() for _ in range(USERS_SHOWN + 1)]
    for other in others:
        act(other, "enter", roomid)
        react(other, roomid, 1, "👍")
    react(bob, roomid, 1, "👨‍👩‍👧‍👦")
    shown = logs(ann, roomid)[0]["reactions"]
    assert [r["emoji"] for r in shown] == ["👍", "👨‍👩‍👧‍👦"]
    assert shown[0]["count"] == USERS_SHOWN + 2
    assert shown[0]["users"] == [ann.user] + [o.user for o in others[: USERS_SHOWN - 1]]
    assert react(bob, roomid, 1, "👨‍👩‍👧‍👦", on=False)["reactions"] == shown[:1]
    assert react(bob, roomid, 1, "👨‍👩‍👧‍👦", on=False) == {"id": 1, "reactions": shown[:1]}  # a retry
    say(ann, roomid, "none yet")
    assert react(ann, roomid, 2, "👍", on=False) == {"id": 2, "reactions": []}  # nothing to take back
    assert "reactions" not in logs(ann, roomid)[1]  # none: the field is left out


def test_at_most_twenty_distinct_reactions(talk):
    ann, bob, roomid = talk
    say(ann, roomid, "react")
    emoji = [chr(0x1F600 + i) for i in range(REACTIONS_MAX + 1)]
    for e in emoji[:REACTIONS_MAX]:
        react(bob, roomid, 1, e)
    assert react(bob, roomid, 1, emoji[-1], status=409)["error"]
    react(ann, roomid, 1, emoji[0])  # one already there may gain users
    react(bob, roomid, 1, emoji[1], on=False)
    assert len(react(bob, roomid, 1, emoji[-1])["reactions"]) == REACTIONS_MAX


@pytest.mark.parametrize(
    "emoji",
    ["a", "1", "#", "👍👍", "🇫", "🏽", "\u200d", "\ufe0f", "👍\u200b", "\u202e👍", "\u200f", "👍 ", "x👍", "😀" * 17],
)
def test_a_reaction_is_one_emoji(talk, emoji):
    ann, _, roomid = talk
    say(ann, roomid, "hi")
    assert react(ann, roomid, 1, emoji, status=400) == {"error": "the reaction must be one emoji"}
    assert "reactions" not in logs(ann, roomid)[0]


@pytest.mark.parametrize("emoji", ["👍", "👍🏽", "🇫🇷", "1️⃣", "❤️", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "🧑🏿‍🦰"])
def test_emoji_of_every_shape_are_accepted(talk, emoji):
    ann, _, roomid = talk
    say(ann, roomid, "hi")
    assert react(ann, roomid, 1, emoji)["reactions"][0]["emoji"] == emoji


def test_a_reply_shows_what_it_answers_as_it_is_now(talk):
    ann, bob, roomid = talk
    say(ann, roomid, "q" * (REPLY_SNIPPET + 50))
    reply = say(bob, roomid, "answer", reply_to=1)
    assert reply["reply_to"] == {"id": 1, "u": ann.user, "m": "q" * REPLY_SNIPPET}
    edit(ann, roomid, 1, "short question")
    assert logs(ann, roomid, "?after=1")[0]["reply_to"] == {"id": 1, "u": ann.user, "m": "short question"}
    delete(ann, roomid, 1)
    assert logs(bob, roomid)[1]["reply_to"] == {"id": 1, "u": ann.user, "deleted": True}
    # A reply to a deleted message is still a reply to a message of the room.
    assert say(bob, roomid, "too late", reply_to=1)["reply_to"]["deleted"] is True
    assert bob.post(f"/v1/logs/{roomid}", {"m": "form", "reply_to": "2"}, status=201).json["reply_to"]["id"] == 2
    for bad in ("1e3", "-1", "0", " 2", "２"):
        bob.post(f"/v1/logs/{roomid}", {"m": "form", "reply_to": bad}, status=400)


@pytest.mark.parametrize("reply_to", [0, 2, 99, -1, 1.5, "1", "-1", True, [1], {"$gt": 0}, "x", 10**10, 2**70])
def test_a_reply_names_a_message_of_the_room(talk, reply_to):
    ann, _, roomid = talk
    say(ann, roomid, "first")
    other = create(ann, "other")
    say(ann, other, "elsewhere")
    say(ann, other, "elsewhere 2")
    body = {"m": "reply", "reply_to": reply_to}
    assert ann.post_json(f"/v1/logs/{roomid}", body, status=400).json["error"]
    assert [m["id"] for m in logs(ann, roomid)] == [1]


class CountingDb:
    """A database whose `messages.find` calls are counted."""

    def __init__(self, db):
        self.db, self.finds = db, 0

    def __getattr__(self, name):
        found = getattr(self.db, name)
        if name != "messages":
            return found
        counter = self

        class Messages:
            def __getattr__(self, attr):
                return getattr(found, attr)

            def find(self, *args, **kwargs):
                counter.finds += 1
                return found.find(*args, **kwargs)

        return Messages()


def test_a_page_of_replies_reads_their_targets_in_one_query(talk, wsgi_app, monkeypatch):
    ann, bob, roomid = talk
    for i in range(5):
        say(ann, roomid, f"question {i}")
    for i in range(5):
        say(bob, roomid, f"answer {i}", reply_to=i + 1)
    messages = wsgi_app.config["chat.store"].messages
    counting = CountingDb(messages._db)
    monkeypatch.setattr(messages, "_db", counting)
    page = logs(ann, roomid, "?after=5")  # the page itself comes from the cache (posted here)
    assert [m["reply_to"]["m"] for m in page] == [f"question {i}" for i in range(5)]
    assert counting.finds == 1


def test_every_process_sees_changes_made_by_another(make_app, settings, new_user):
    """Two apps are two processes' caches over one database: a page read from a cache shows every change."""
    first, second = make_app(settings), make_app(settings)
    ann = new_user(app=first)
    roomid = create(ann, "shared")
    other = webtest.TestApp(second)
    other.post_json("/auth/login", {"username": ann.user, "password": "correct horse battery"})
    for i in range(5):
        say(ann, roomid, f"m{i}")
    assert [m["m"] for m in logs(ann, roomid)] == [f"m{i}" for i in range(5)]  # now cached in `first`
    edit(other, roomid, 2, "changed elsewhere")
    react(other, roomid, 3, "🎉")
    delete(other, roomid, 4)
    page = logs(ann, roomid)
    assert page[1]["m"] == "changed elsewhere" and "edited" in page[1]
    assert page[2]["reactions"][0]["emoji"] == "🎉"
    assert page[3]["deleted"] is True and "m" not in page[3]
    assert logs(ann, roomid) == logs(other, roomid)


WRONG_TYPES = [{"$ne": None}, {"$gt": ""}, {"$regex": ".*"}, ["x"], [], {}, 42, 4.2, True, None]


@pytest.fixture
def hostile(talk, wsgi_app):
    """(ann, roomid) with one message; after the test nothing stored changed and nothing hostile is stored."""
    ann, _, roomid = talk
    say(ann, roomid, "original")
    db = wsgi_app.config["chat.store"].db

    def state():
        return [sorted(map(repr, db[name].find({}, {"_id": 0}))) for name in ("messages", "events", "rooms")] + [
            sorted(map(repr, db.activity.find({"act": "message"}, {"m": 1})))
        ]

    before = state()
    yield ann, roomid
    assert state() == before
    assert_clean(db)


@pytest.mark.parametrize("value", WRONG_TYPES, ids=repr)
def test_an_edit_of_the_wrong_type_is_400(hostile, value):
    ann, roomid = hostile
    assert ann.patch_json(f"/v1/logs/{roomid}/1", {"m": value}, status=400).json["error"] == "m must be a string"


@pytest.mark.parametrize(
    "body, status",
    [
        ({"m": "a\x00b"}, 400),
        ({"m": "\ud800"}, 400),
        ({"m": " \t\n "}, 400),
        ({"m": "x" * 4001}, 400),
        ({"m": "x" * 70_000}, 413),
        ({}, 400),
    ],
    ids=["NUL", "lone surrogate", "blank", "over 4000", "over 64 KiB", "missing"],
)
def test_hostile_edit_bodies_are_4xx(hostile, body, status):
    ann, roomid = hostile
    raw = json.dumps(body)
    res = ann.patch(f"/v1/logs/{roomid}/1", raw, content_type="application/json", status=status)
    assert res.json["error"]


def test_an_edit_with_a_repeated_key_or_a_wrong_content_type_is_4xx(hostile):
    ann, roomid = hostile
    ann.patch(f"/v1/logs/{roomid}/1", '{"m": "a", "m": "b"}', content_type="application/json", status=400)
    ann.patch(f"/v1/logs/{roomid}/1", "m=a", content_type="text/plain", status=415)
    ann.patch(f"/v1/logs/{roomid}/1", "m=a&m=b", content_type="application/x-www-form-urlencoded", status=400)


@pytest.mark.parametrize(
    "number", ["0", "-1", "01x", "1e3", "1.0", "%00", "99999999999", "1" * 50, "%EF%BC%91", "%24ne"]
)
def test_message_ids_out_of_range_are_400(hostile, number):
    ann, roomid = hostile
    expected = {"error": "the message id must be a whole number from 1 to 9999999999"}
    assert ann.patch_json(f"/v1/logs/{roomid}/{number}", {"m": "x"}, status=400).json == expected
    assert ann.delete(f"/v1/logs/{roomid}/{number}", status=400).json == expected
    assert ann.put(f"/v1/logs/{roomid}/{number}/reactions/{quote('👍')}", status=400).json == expected


@pytest.mark.parametrize(
    "raw",
    # (Paths that are not UTF-8 are refused before routing: test_hostile covers them for every path.)
    [
        "%00",
        "%E2%80%AE%F0%9F%91%8D",
        "%E2%80%8B",
        "%24ne",
        "%7B%7D",
        "a" * 300,
        "%F0%9F%91%8D" * 20,
    ],
)
def test_hostile_emoji_paths_are_400(hostile, raw):
    ann, roomid = hostile
    assert ann.put(f"/v1/logs/{roomid}/1/reactions/{raw}", status=400).json["error"]
    ann.delete(f"/v1/logs/{roomid}/1/reactions/{raw}", status=400)


def test_a_room_id_that_is_not_one_is_400(hostile):
    ann, _ = hostile
    for room in ("%24ne", "a" * 65, "ab%00cd"):
        assert ann.patch_json(f"/v1/logs/{room}/1", {"m": "x"}, status=400).json == {"error": "no such room"}
        assert ann.delete(f"/v1/logs/{room}/1", status=400).json == {"error": "no such room"}
