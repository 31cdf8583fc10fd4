"""Rooms: GET /v1/room/:userid and POST /v1/room, including races on the real database."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import webtest

from tests.helpers import PASSWORD, act, create


def test_create_enter_leave_and_delete(new_user):
    ann, bob = new_user(), new_user()
    roomid = create(ann, "Lunch")
    assert act(bob, "enter", roomid).json == {"roomid": roomid}
    assert act(bob, "enter", roomid).json == {"roomid": roomid}  # already a member: no change
    rooms = ann.get(f"/v1/room/{ann.user}").json
    # One's own rooms say more (unread counts, the read marker): the rest is the same room.
    assert [{k: r[k] for k in rooms["allrooms"][0]} for r in rooms["join_rooms"]] == rooms["allrooms"]
    assert rooms["allrooms"][0]["roomid"] == roomid and rooms["allrooms"][0]["name"] == "Lunch"
    assert rooms["allrooms"][0]["members"] == 2
    assert rooms["allrooms"][0]["created"].endswith("Z")
    assert act(bob, "leave", roomid).json == {"roomid": roomid}
    assert act(ann, "leave", roomid).json == {"roomid": "room deleted"}
    assert ann.get(f"/v1/room/{ann.user}").json == {"allrooms": [], "join_rooms": []}
    ann.get(f"/v1/logs/{roomid}", status=400)


def test_room_listing_order_limit_and_mine(new_user):
    ann, bob = new_user(), new_user()
    first, second, third = create(ann, "one"), create(bob, "two"), create(ann, "three")
    ann.post_json(f"/v1/logs/{first}", {"m": "bump"}, status=201)
    listing = ann.get(f"/v1/room/{ann.user}").json
    assert [r["roomid"] for r in listing["allrooms"]] == [first, third, second]
    assert {r["roomid"] for r in listing["join_rooms"]} == {first, third}
    assert len(ann.get(f"/v1/room/{ann.user}?limit=2").json["allrooms"]) == 2


def test_default_room_name(new_user):
    ann = new_user()
    create(ann)
    assert ann.get(f"/v1/room/{ann.user}").json["allrooms"][0]["name"] == "Untitled room"


def test_enter_missing_room_is_400(new_user):
    ann = new_user()
    assert act(ann, "enter", "nosuchroom", status=400).json == {"roomid": None}


def test_leave_missing_room_or_not_member_is_400(new_user):
    ann, bob = new_user(), new_user()
    roomid = create(ann)
    assert act(bob, "leave", roomid, status=400).json == {"roomid": None}
    assert act(bob, "leave", "nosuchroom", status=400).json == {"roomid": None}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"action": "enter", "roomid": None},
        {"userid": "USER", "roomid": None},
        {"userid": "USER", "action": "dance", "roomid": None},
        {"userid": "USER", "action": "enter"},
        {"userid": "USER", "action": "leave", "roomid": None},
        {"userid": "USER", "action": "enter", "roomid": {"$ne": None}},
        {"userid": {"$ne": None}, "action": "enter", "roomid": None},
        {"userid": "USER", "action": ["enter"], "roomid": None},
        {"userid": "USER", "action": "enter", "roomid": 42},
        {"userid": "USER", "action": "enter", "roomid": "../../etc"},
        {"userid": "USER", "action": "enter", "roomid": None, "name": "x" * 101},
        {"userid": "USER", "action": "enter", "roomid": None, "name": {"$gt": ""}},
    ],
)
def test_malformed_room_action_is_text_400(new_user, body):
    ann = new_user()
    body = {k: (ann.user if v == "USER" else v) for k, v in body.items()}
    res = ann.post_json("/v1/room", body, status=400)
    assert res.content_type == "text/plain" and res.text == "wrong request format"


def test_room_action_accepts_a_form(new_user):
    ann = new_user()
    res = ann.post("/v1/room", {"userid": ann.user, "action": "enter", "roomid": ""}, status=400)
    assert res.text == "wrong request format"  # a form cannot say null: "" is no room id


def test_authorization(new_user, client):
    ann, bob = new_user(), new_user()
    client.get(f"/v1/room/{ann.user}", status=401)
    client.post_json("/v1/room", {"userid": ann.user, "action": "enter", "roomid": None}, status=401)
    bob.get(f"/v1/room/{ann.user}", status=403)
    bob.post_json("/v1/room", {"userid": ann.user, "action": "enter", "roomid": None}, status=403)
    assert bob.get("/v1/room/not-an-email", status=400).json is None
    assert bob.get(f"/v1/room/{bob.user}?limit=0", status=400).json is None
    assert bob.get(f"/v1/room/{bob.user}?limit=abc", status=400).json is None


def test_userid_is_compared_normalised(new_user):
    ann = new_user()
    ann.get(f"/v1/room/{ann.user.upper()}", status=200)


def test_many_users_leaving_at_once_delete_the_room_exactly_once(new_user):
    users = [new_user() for _ in range(12)]
    roomid = create(users[0])
    for user in users[1:]:
        act(user, "enter", roomid)
    barrier = threading.Barrier(len(users))

    def leave(user):
        barrier.wait()
        return act(user, "leave", roomid).json["roomid"]

    with ThreadPoolExecutor(len(users)) as pool:
        answers = list(pool.map(leave, users))
    assert answers.count("room deleted") == 1
    assert answers.count(roomid) == len(users) - 1


def test_enter_racing_the_last_leave_never_strands_a_member(new_user, settings):
    import pymongo

    ann, bob = new_user(), new_user()
    db = pymongo.MongoClient(settings.mongodb_uri).get_default_database()
    for _ in range(15):
        roomid = create(ann)
        barrier = threading.Barrier(2)
        results = {}

        def run(name, user, action, barrier=barrier, results=results, roomid=roomid):
            barrier.wait()
            results[name] = act(user, action, roomid, status="*")

        threads = [
            threading.Thread(target=run, args=("leave", ann, "leave")),
            threading.Thread(target=run, args=("enter", bob, "enter")),
        ]
        [t.start() for t in threads]
        [t.join() for t in threads]
        room = db.rooms.find_one({"_id": roomid})
        if results["enter"].status_int == 200:
            # bob got in: the room must still exist with bob in it, and ann's leave did not delete it.
            assert room is not None and room["members"] == [bob.user] and room["n"] == 1
            assert results["leave"].json == {"roomid": roomid}
            act(bob, "leave", roomid)
        else:
            assert results["enter"].json == {"roomid": None}
            assert results["leave"].json == {"roomid": "room deleted"} and room is None


def test_room_actions_write_activity(new_user, settings):
    import pymongo

    ann, bob = new_user(), new_user()
    roomid = create(ann)
    act(bob, "enter", roomid)
    act(bob, "leave", roomid)
    act(ann, "leave", roomid)
    db = pymongo.MongoClient(settings.mongodb_uri).get_default_database()
    acts = [
        (e["u"], e["act"], e["m"]) for e in db.activity.find({"act": {"$in": ["create", "enter", "leave", "delete"]}})
    ]
    assert sorted(acts) == sorted(
        [
            (ann.user, "create", roomid),
            (bob.user, "enter", roomid),
            (bob.user, "leave", roomid),
            (ann.user, "leave", roomid),
            (ann.user, "delete", roomid),
        ]
    )


def test_in_process_mode_works_too(make_app, memory_settings):
    app = make_app(memory_settings)
    ann = webtest.TestApp(app)
    ann.post_json("/auth/register", {"username": "ann@example.com", "password": "long enough"}, status=201)
    roomid = ann.post_json("/v1/room", {"userid": "ann@example.com", "action": "enter", "roomid": None}).json["roomid"]
    ann.post_json(f"/v1/logs/{roomid}", {"m": "hi"}, status=201)


def test_an_email_with_a_slash_lists_its_rooms(new_user):
    odd = new_user("a/b@example.com")
    create(odd)
    assert len(odd.get("/v1/room/a%2Fb@example.com").json["join_rooms"]) == 1


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '{"userid": "a", "userid": "b"}'])
def test_a_malformed_json_body_is_the_text_400_too(new_user, body):
    res = new_user().post("/v1/room", body, content_type="application/json", status=400)
    assert res.text == "wrong request format"


@pytest.mark.parametrize("userid", ["%0A", "a%0Ab@example.com", "%20"])
def test_a_userid_with_control_characters_is_400_not_404(new_user, userid):
    assert new_user().get(f"/v1/room/{userid}", status=400).json is None


def test_rooms_stored_with_their_counters_get_a_head_at_start(make_app, settings, new_user):
    """Rooms from before heads (store/timeline.py) kept `seq`, `ev`, `changed`, `posted`, `active` and `push` on the
    room document: the next start moves them to the room's head, once, and the room goes on where it was."""
    ann = new_user()
    roomid = create(ann, "old")
    for text in ("one", "two"):
        ann.post_json(f"/v1/logs/{roomid}", {"m": text}, status=201)
    db = ann.app.config["chat.store"].db
    head = db.timelines.find_one_and_delete({"_id": roomid})
    fields = ("seq", "ev", "changed", "posted", "push")
    db.rooms.update_one({"_id": roomid}, {"$set": {**{k: head[k] for k in fields}, "active": head["active"]}})
    for _ in range(2):  # two processes starting: the second finds nothing to move
        restarted = webtest.TestApp(make_app(settings))
    restarted.post_json("/auth/login", {"username": ann.user, "password": PASSWORD}, status=200)
    assert db.timelines.find_one({"_id": roomid}) == {
        "_id": roomid,
        "seq": 2,
        "ev": head["ev"],
        "changed": head["changed"],
        "posted": head["posted"],
        "active": head["posted"],
        "visibility": "public",
        "mev": head["ev"],  # a membership number past any a process may hold a member view at
        "push": False,
    }
    assert not {*fields, "active"} & db.rooms.find_one({"_id": roomid}).keys()
    assert restarted.post_json(f"/v1/logs/{roomid}", {"m": "three"}, status=201).json["id"] == 3
    assert [m["m"] for m in restarted.get(f"/v1/logs/{roomid}").json["logs"]] == ["one", "two", "three"]
    assert db.messages.find_one({"room": roomid, "id": 3})["ev"] == head["ev"] + 1
