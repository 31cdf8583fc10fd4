"""Search: GET /v1/search over the terms on each message (privacy, languages, phrases, prefixes, paging, edits)."""

from urllib.parse import quote

import pytest

from store.db import atomic
from store.search import Search, fields, parse_query, terms, tokens
from tests.helpers import act, create


def post(client, roomid, text):
    return client.post_json(f"/v1/logs/{roomid}", {"m": text}, status=201).json


def search(client, q, status=200, **params):
    query = "&".join(f"{k}={quote(str(v))}" for k, v in {"q": q, **params}.items())
    return client.get(f"/v1/search?{query}", status=status).json


def texts(answer) -> list[str]:
    return [r["message"]["m"] for r in answer["results"]]


@pytest.fixture
def ann(new_user):
    ann = new_user()
    ann.room = create(ann, "launch")
    return ann


def test_result_shape_highlights_and_newest_first(ann):
    post(ann, ann.room, "the café opens")
    second = post(ann, ann.room, "**Café** au lait, déjà vu")
    answer = search(ann, "cafe")
    assert texts(answer) == ["**Café** au lait, déjà vu", "the café opens"]
    first = answer["results"][0]
    assert first["roomid"] == ann.room and first["room_name"] == "launch" and first["message"] == second
    assert first["highlights"] == [[2, 6]]  # code points of "Café" inside the Markdown
    assert answer["next"] is None


@pytest.mark.parametrize(
    ("text", "query", "found"),
    [
        ("Déjà vu at the CAFÉ", "deja CAFE", True),
        ("Straße", "strasse", True),
        ("all words must match", "words absent", False),
        ("a quoted phrase here", '"quoted phrase"', True),
        ("phrase quoted here", '"quoted phrase"', False),
        ("deployment tomorrow", "deplo", True),
        ("deployment tomorrow", "deplo ", False),  # a space ends the word: no prefix
        ("deployment tomorrow", "tomorrow deplo", True),
        ("我们明天去北京出差", "北京出差", True),
        ("我们明天去北京出差", "京出", True),
        ("我们明天去北京出差", "北出", False),
        ("東京都庁に行きます", "都庁", True),
        ("東京都庁に行きます", "行きます", True),
        ("カタカナのテスト", "カナの", True),
        ("한국어 텍스트 검색", "텍스트", True),
        ("한국어 텍스트 검색", "국어", True),
        ("release v2 on 東京 servers", "東京 servers", True),
        ("mixed東京tower", "東京", True),
        ("shipping 🚀 today", "🚀", True),
        ("order 4521 shipped", "4521", True),
        ("see [the docs](https://example.com/rollout-notes)", "rollout notes", True),
        ("**bold** and `code`", "code", True),
        ("hello <@bob@example.com>", "example", False),
        ("ping <@bob@example.com> please", '"ping please"', True),
    ],
)
def test_matching(ann, text, query, found):
    post(ann, ann.room, text)
    assert texts(search(ann, query)) == ([text] if found else [])


def test_cjk_highlights_are_merged_pairs(ann):
    post(ann, ann.room, "明天去北京出差")
    assert search(ann, "北京出差")["results"][0]["highlights"] == [[3, 7]]


def test_privacy_non_member_left_member_and_deleted_room(ann, new_user):
    bob = new_user()
    post(ann, ann.room, "secret plans")
    assert search(bob, "secret")["results"] == []
    act(bob, "enter", ann.room)
    assert texts(search(bob, "secret")) == ["secret plans"]
    act(bob, "leave", ann.room)
    assert search(bob, "secret")["results"] == []
    assert search(bob, "secret", roomid=ann.room, status=403) == {"error": "you are not a member of this room"}
    act(ann, "leave", ann.room)  # the last member: the room is deleted
    assert search(ann, "secret")["results"] == []
    assert search(ann, "secret", roomid=ann.room, status=400) == {"error": "no such room"}
    db = ann.app.config["chat.store"].db
    assert db.messages.count_documents({"room": ann.room}) == 0  # its terms went with its messages


def test_roomid_and_from_narrow(ann, new_user):
    bob = new_user()
    act(bob, "enter", ann.room)
    other = create(ann, "other")
    post(ann, ann.room, "status report")
    post(bob, ann.room, "status update")
    post(ann, other, "status elsewhere")
    assert texts(search(ann, "status", roomid=ann.room)) == ["status update", "status report"]
    assert texts(search(ann, "status", **{"from": bob.user})) == ["status update"]
    assert texts(search(ann, "status", **{"from": bob.user.upper()})) == ["status update"]
    assert len(search(ann, "status")["results"]) == 3


def test_edit_and_delete_keep_the_index_consistent(ann):
    """The terms change with the text in the edit's and the deletion's own transaction; words no message has leave."""
    message = post(ann, ann.room, "old wording here")
    path = f"/v1/logs/{ann.room}/{message['id']}"
    db = ann.app.config["chat.store"].db
    ann.patch_json(path, {"m": "new text here"}, status=200)
    assert search(ann, "wording")["results"] == [] and search(ann, "wordi")["results"] == []
    assert texts(search(ann, "new text")) == ["new text here"]
    assert db.words.count_documents({"w": "wording"}) == 0 and db.words.count_documents({"w": "here"}) == 1
    ann.delete(path, status=200)
    assert search(ann, "new")["results"] == [] and search(ann, "here")["results"] == []
    assert db.messages.count_documents({"k": {"$exists": True}, "id": message["id"]}) == 0
    assert db.words.count_documents({"w": {"$in": ["new", "text", "here"]}}) == 0


def test_a_word_forgotten_elsewhere_comes_back_with_its_next_message(ann, settings, monkeypatch):
    """Processes remember which words `words` holds; a deletion that forgets one tells them all (counters.words)."""
    monkeypatch.setattr("store.search.VOCABULARY_CHECK", 0)  # ask on every post, not once a second
    store = ann.app.config["chat.store"]
    other = Search(store.db)  # another process's memory of the vocabulary
    other.learn(["quokka"])
    first = post(ann, ann.room, "a quokka")
    ann.delete(f"/v1/logs/{ann.room}/{first['id']}", status=200)
    assert store.db.words.count_documents({"w": "quokka"}) == 0
    other.learn(["quokka"])  # it sees the generation move and writes the word again
    assert store.db.words.count_documents({"w": "quokka"}) == 1
    store.db.words.delete_many({})
    post(ann, ann.room, "another quokka")  # this process forgot it too: the vocabulary has it again
    assert texts(search(ann, "quok")) == ["another quokka"]


def test_a_failed_write_leaves_no_index_entry(ann):
    store = ann.app.config["chat.store"]

    def fails(session):
        doc = {"room": ann.room, "id": 99, "u": ann.user, "m": "ghost words", "act": 10**9}
        store.db.messages.insert_one({**doc, **store.search.fields("ghost words")}, session=session)
        raise RuntimeError("abort")

    with pytest.raises(RuntimeError):
        atomic(store.db, fails)
    assert search(ann, "ghost")["results"] == []


def test_paging_without_duplicates_or_gaps_while_messages_arrive(ann):
    for i in range(45):
        post(ann, ann.room, f"note number {i}")
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 10, **({"before": cursor} if cursor else {})}
        answer = search(ann, "note", **params)
        seen += [r["message"]["id"] for r in answer["results"]]
        post(ann, ann.room, f"note arriving {pages}")  # newer than every page: never in a later one
        pages += 1
        cursor = answer["next"]
        if cursor is None:
            break
    assert seen == list(range(45, 0, -1))


def test_common_word_page_is_bounded_and_resumable(ann):
    store = ann.app.config["chat.store"]
    for i in range(30):
        post(ann, ann.room, f"the common word {i}")
    answer = search(ann, "the", limit=7)
    assert len(answer["results"]) == 7 and answer["next"]
    assert store.db.messages.count_documents({"k": "the"}) == 30


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("", "q must not be empty"),
        ("   ", "q must not be empty"),
        ("x" * 201, "q must be at most 200 characters"),
        (" ".join(f"w{i}" for i in range(11)), "q must have at most 10 terms"),
        ("** >", "q has no searchable words"),
    ],
)
def test_bad_queries_are_400_with_a_reason(ann, query, reason):
    assert search(ann, query, status=400) == {"error": reason}


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "q=a&q=b",
        "q=%00",
        "q=a%00b",
        "q=%ED%A0%80",  # a lone surrogate, UTF-8 encoded
        "q=%FF",
        "q[$ne]=1",
        "q=a&limit=0",
        "q=a&limit=101",
        "q=a&before=x",
        "q=a&before=0",
        "q=a&roomid=bad$id",
        "q=a&roomid=nosuchroom",
        "q=a&from=nobody",
        "q=" + "a" * 100_000,
    ],
)
def test_hostile_parameters_are_400(ann, raw):
    assert "error" in ann.get(f"/v1/search?{raw}", status=400).json


def test_needs_a_session(client):
    client.get("/v1/search?q=x", status=401)


def test_terms_are_pure_and_positions_feed_phrases():
    assert terms("the cat and the hat") == {"the": [0, 3], "cat": [1], "and": [2], "hat": [4]}
    assert fields("東京都") == {"k": ["東京", "京都"], "p": [[0], [1]]}
    assert [t.term for t in tokens("a 中 b")] == ["a", "中", "b"]  # a one-character run is itself
    assert parse_query('"東京 tower"')[0][1].prefix is False


def test_a_message_without_terms_is_indexed_empty_and_stays_out_of_results(ann):
    post(ann, ann.room, "** > ``")
    post(ann, ann.room, "words after")
    assert texts(search(ann, "words")) == ["words after"]
    assert ann.app.config["chat.store"].db.messages.count_documents({"k": []}) == 1
