"""Hostile input: wrong types and operators in every field, broken encodings, huge and deep bodies,
repeated keys, wrong content types, bad paths and bad cookies, malformed uploads and paths under /media/.
Each gets a clear 4xx and the database holds nothing it should not."""

import hashlib
import io
import json
import secrets
from datetime import timedelta
from urllib.parse import quote, unquote_to_bytes
from wsgiref.util import setup_testing_defaults

import pytest
import webtest

from scripts.sample_images import png
from store.db import now
from tests.helpers import PASSWORD, assert_clean, create

NEW_USER = "newcomer@example.com"
# Every field of every JSON route, with a valid body for that route; "USER"/"ROOM" become the fixture's.
ROUTES = {
    "register": ("/auth/register", {"username": NEW_USER, "password": PASSWORD}),
    "login": ("/auth/login", {"username": "USER", "password": PASSWORD}),
    "room": ("/v1/room", {"userid": "USER", "action": "enter", "roomid": None, "name": "a room"}),
    "message": ("/v1/logs/ROOM", {"m": "hello", "cid": "c-1"}),
}
FIELDS = [(route, field) for route, (_, body) in ROUTES.items() for field in body]
WRONG_TYPES = [
    {"$ne": None},
    {"$gt": ""},
    {"$where": "sleep(1000)"},
    {"$regex": ".*"},
    ["x"],
    [],
    {},
    42,
    4.2,
    True,
    None,
]
NULLABLE = {("room", "roomid"), ("room", "name"), ("message", "cid")}  # null is a valid value there


@pytest.fixture
def ann(new_user):
    """A user (`.user`) with a room (`.room`) and the database (`.db`)."""
    client = new_user()
    client.room = create(client, "talk")
    client.db = client.app.config["chat.store"].db
    return client


def request_for(ann, route: str, **changes) -> tuple[str, dict]:
    """A route's URL and its valid body with some fields changed (a value of ... removes the field)."""
    url, body = ROUTES[route]
    body = {**body, **changes}
    body = {
        k: {"USER": ann.user, "ROOM": ann.room}.get(v, v) if isinstance(v, str) else v
        for k, v in body.items()
        if v is not ...
    }
    return url.replace("ROOM", ann.room), body


def snapshot(db) -> dict:
    """What the tests must not change: every user, room and message."""
    return {
        name: sorted(map(repr, db[name].find({}, {"_id": 1, "members": 1, "n": 1, "name": 1, "m": 1})))
        for name in ("users", "rooms", "messages")
    }


def assert_refused_with(res, route: str, error: str) -> None:
    """A 400 saying `error`; POST /v1/room answers every malformed body with the original API's text."""
    assert res.status_int == 400
    if route == "room":
        assert res.content_type == "text/plain" and res.text == "wrong request format"
    else:
        assert res.json == {"error": error}


def assert_refused(res, route: str) -> None:
    """A 400 with a clear error in the route's shape."""
    assert res.status_int == 400
    if route == "room" and res.content_type == "text/plain":
        assert res.text == "wrong request format"
    else:
        assert res.content_type == "application/json" and res.json["error"]


@pytest.fixture
def unchanged(ann):
    """Assert, after the test, that the database holds nothing new and nothing hostile."""
    before = snapshot(ann.db)
    yield
    assert snapshot(ann.db) == before
    assert_clean(ann.db)


@pytest.mark.parametrize("route, field", FIELDS)
@pytest.mark.parametrize("value", WRONG_TYPES, ids=json.dumps)
def test_wrong_type_in_every_field_is_400(ann, unchanged, route, field, value):
    if value is None and (route, field) in NULLABLE:
        pytest.skip("null is valid here")
    url, body = request_for(ann, route, **{field: value})
    assert_refused(ann.post_json(url, body, expect_errors=True), route)


@pytest.mark.parametrize("route, field", FIELDS)
def test_missing_required_field_is_400(ann, unchanged, route, field):
    if (route, field) in NULLABLE - {("room", "roomid")}:
        pytest.skip("the field is optional")
    url, body = request_for(ann, route, **{field: ...})
    assert_refused(ann.post_json(url, body, expect_errors=True), route)


@pytest.mark.parametrize("route, field", FIELDS)
@pytest.mark.parametrize("text", ["a\x00b", "\x00"], ids=["inner", "alone"])
@pytest.mark.parametrize("as_form", [False, True], ids=["json", "form"])
def test_nul_in_every_field_is_400(ann, unchanged, route, field, text, as_form):
    url, body = request_for(ann, route, **{field: text})
    if as_form:
        res = ann.post(url, {k: v for k, v in body.items() if v is not None}, expect_errors=True)
    else:
        res = ann.post_json(url, body, expect_errors=True)
    assert_refused_with(res, route, "request body must not contain NUL characters")


@pytest.mark.parametrize("route, field", FIELDS)
def test_lone_surrogate_in_every_field_is_400(ann, unchanged, route, field):
    url, body = request_for(ann, route, **{field: "x\ud800y"})
    raw = json.dumps(body)  # ASCII with a \ud800 escape: valid JSON, not valid Unicode
    res = ann.post(url, raw, content_type="application/json", expect_errors=True)
    assert_refused_with(res, route, "request body must be valid Unicode (no lone surrogates)")


@pytest.mark.parametrize(
    "raw, content_type",
    [
        (b'{"m": "caf\xe9"}', "application/json"),  # Latin-1, not UTF-8
        (b'{"m": "\xed\xa0\x80"}', "application/json"),  # a UTF-8-encoded surrogate
        (b"m=caf\xe9", "application/x-www-form-urlencoded"),
        (b"m=caf%E9", "application/x-www-form-urlencoded"),  # a %-escape that is not UTF-8
        (b"m=%ED%A0%80", "application/x-www-form-urlencoded"),
    ],
)
def test_invalid_utf8_body_is_400(ann, unchanged, raw, content_type):
    res = ann.post(f"/v1/logs/{ann.room}", raw, content_type=content_type, expect_errors=True)
    assert res.status_int == 400 and res.json["error"] in (
        "request body is not valid UTF-8",
        "request body is not a valid form",
    )


@pytest.mark.parametrize("route, field", FIELDS)
@pytest.mark.parametrize("as_form", [False, True], ids=["json", "form"])
def test_a_megabyte_string_in_every_field_is_413(ann, unchanged, route, field, as_form):
    url, body = request_for(ann, route, **{field: "x" * 1024 * 1024})
    if as_form:
        res = ann.post(url, {k: v for k, v in body.items() if v is not None}, expect_errors=True)
    else:
        res = ann.post_json(url, body, expect_errors=True)
    assert res.status_int == 413 and res.json == {"error": "request body over 65536 bytes"}


def raw_call(
    app, method: str, path: bytes, body: bytes = b"", headers: dict | None = None, length: bool = True
) -> tuple[int, dict, bytes]:
    """Call the WSGI app with bytes no HTTP client library would send (a path that is not UTF-8, no length)."""
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path.decode("latin-1"), "wsgi.input": io.BytesIO(body)}
    if length:
        environ["CONTENT_LENGTH"] = str(len(body))
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        environ[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
    setup_testing_defaults(environ)
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer.update(status=int(status.split()[0]), headers=dict(headers))

    data = b"".join(app(environ, start_response))
    return answer["status"], answer["headers"], data


def test_a_chunked_megabyte_body_is_413(ann, unchanged):
    """No Content-Length for the guard to check: the body's reader stops at the limit."""
    data = json.dumps({"m": "x" * 1024 * 1024}).encode()
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(data[i : i + 8192]), data[i : i + 8192]) for i in range(0, len(data), 8192)
    )
    status, _, answer = raw_call(
        ann.app,
        "POST",
        f"/v1/logs/{ann.room}".encode(),
        chunks + b"0\r\n\r\n",
        length=False,
        headers={
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
            "Cookie": f"session={ann.cookies['session']}",
        },
    )
    assert status == 413 and json.loads(answer) == {"error": "request body over 65536 bytes"}


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 100_000,  # over the body limit: refused before parsing
        b"[" * 60_000,  # under it: the parser's RecursionError
        b'{"m": ' + b"[" * 60_000 + b"]" * 60_000 + b"}",
        b'{"m": ' + b'{"a": ' * 10_000 + b"1" + b"}" * 10_001,
        b'{"m": ' + b"[" * 900 + b"]" * 900 + b"}",  # parses: then m is not a string
    ],
)
def test_deeply_nested_json_is_4xx(ann, unchanged, raw):
    res = ann.post(f"/v1/logs/{ann.room}", raw, content_type="application/json", expect_errors=True)
    assert res.status_int == (413 if len(raw) > 65536 else 400)
    assert res.json["error"]


@pytest.mark.parametrize("route, field", FIELDS)
def test_a_repeated_json_key_is_400(ann, unchanged, route, field):
    url, body = request_for(ann, route)
    pairs = ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in body.items())
    raw = "{" + pairs + f", {json.dumps(field)}: {json.dumps(body[field])}" + "}"
    res = ann.post(url, raw, content_type="application/json", expect_errors=True)
    assert_refused_with(res, route, "request body repeats a key")


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/json-patch+json",
        "application/x-www-form-urlencodedx",
    ],
)
def test_wrong_content_type_is_415(ann, unchanged, route, content_type):
    url, body = request_for(ann, route, roomid=...)  # a form-shaped body, sent under the wrong name
    raw = "&".join(f"{k}={quote(str(v))}" for k, v in body.items())
    res = ann.post(url, raw, content_type=content_type, expect_errors=True)
    assert res.status_int == 415
    assert res.json == {"error": "send the body as application/json or application/x-www-form-urlencoded"}


@pytest.mark.parametrize("route", ROUTES)
def test_a_body_without_content_type_is_415(ann, unchanged, route):
    url, body = request_for(ann, route)
    status, _, data = raw_call(
        ann.app,
        "POST",
        url.encode(),
        json.dumps(body).encode(),
        headers={"Cookie": f"session={ann.cookies['session']}"},
    )
    assert status == 415 and json.loads(data)["error"]


@pytest.mark.parametrize("route", ROUTES)
def test_json_sent_as_a_form_and_a_form_sent_as_json_are_400(ann, unchanged, route):
    url, body = request_for(ann, route, roomid=...)
    res = ann.post(url, json.dumps(body), content_type="application/x-www-form-urlencoded", expect_errors=True)
    assert_refused(res, route)
    form = "&".join(f"{k}={quote(str(v))}" for k, v in body.items())
    res = ann.post(url, form, content_type="application/json", expect_errors=True)
    assert_refused_with(res, route, "request body is not valid JSON")


@pytest.mark.parametrize(
    "path",
    [
        b"/v1/logs/ab\xffcd",
        b"/v1/room/\xed\xa0\x80@example.com",
        b"/v1/logs/\xff",
        b"/\xff",
        b"/static/chat\xff.css",
        b"/healthz\xc3",
    ],
)
def test_a_path_that_is_not_utf8_is_400(ann, unchanged, path):
    status, headers, data = raw_call(ann.app, "GET", path, headers={"Cookie": f"session={ann.cookies['session']}"})
    assert status == 400 and b"the path is not valid UTF-8" in data


@pytest.mark.parametrize(
    "path, body",
    [
        ("/v1/room/ann%00@example.com", None),
        ("/v1/room/%7B%22$ne%22:null%7D", None),
        ("/v1/room/" + "a" * 250 + "@example.com", None),
        ("/v1/room/..%2F..%2Fetc%2Fpasswd", None),
        ("/v1/logs/ab%00cd", {"logs": []}),
        ("/v1/events/ab%00cd", {"error": "no such room"}),
        ("/v1/events/%24ne", {"error": "no such room"}),
        ("/v1/logs/%24ne", {"logs": []}),
        ("/v1/logs/" + "a" * 65, {"logs": []}),
    ],
)
def test_hostile_path_parameters_are_400(ann, unchanged, path, body):
    assert ann.get(path, status=400).json == body


# /v1/logs/<roomid>/<id> exists for PATCH and DELETE (GET there is 405): three segments name no route.
@pytest.mark.parametrize("path", ["/v1/logs/..%2f..%2fetc", "/v1/logs/a/b/c", "/v1/events/a%2fb"])
def test_a_slash_in_a_path_parameter_is_404(ann, unchanged, path):
    assert ann.get(path, status=404).json["error"]


@pytest.mark.parametrize(
    "query",
    [
        "limit=1e3",
        "limit=0x10",
        "limit=%EF%BC%91",
        "limit=%D9%A1",
        "limit=+1",
        "limit=1%00",
        "limit=99999999999",
        "before=99999999999",
        "after=-0",
        "limit[$ne]=1&limit=x",
    ],
)
def test_hostile_query_parameters_are_400(ann, unchanged, query):
    assert ann.get(f"/v1/logs/{ann.room}?{query}", status=400).json == {"logs": []}
    if query.startswith("limit"):
        assert ann.get(f"/v1/room/{ann.user}?{query}", status=400).json is None
    if query.startswith(("limit", "before")):
        assert ann.get(f"/v1/stats?{query}", status=400).json["error"]


@pytest.mark.parametrize(
    "resume",
    [
        "Last-Event-ID=-1",
        "Last-Event-ID=1e3",
        "Last-Event-ID=\u0661",
        "Last-Event-ID=",
        "Last-Event-ID=0x10",
        "Last-Event-ID=5;6",
        "Last-Event-ID=1.",
        "Last-Event-ID=.5",
        "Last-Event-ID=1.2.3",
        "Last-Event-ID=1.-2",
        "Last-Event-ID=" + "9" * 17,
        "after=-1",
        "after=abc",
        "after=%00",
        "after=1..2",
        "after=" + "9" * 17,
    ],
)
def test_hostile_resume_points_are_400(ann, unchanged, resume):
    name, _, value = resume.partition("=")
    if name == "after":
        res = ann.get(f"/v1/events/{ann.room}?{resume}", status=400)
    else:
        res = ann.get(f"/v1/events/{ann.room}", headers={name: value.encode().decode("latin-1")}, status=400)
    assert res.json["error"] == "Last-Event-ID and after must be an event id: a message id, or <message id>.<position>"


def forged_token() -> str:
    return secrets.token_urlsafe(32)  # the shape of a real token


def expired_token(db, user: str) -> str:
    """A real session for the user whose time is up (the TTL index has not removed it yet)."""
    token, past = forged_token(), now() - timedelta(days=1)
    db.sessions.insert_one(
        {
            "_id": hashlib.sha256(token.encode()).hexdigest(),
            "u": user,
            "created": past - timedelta(days=14),
            "expires": past,
        }
    )
    return token


@pytest.mark.parametrize(
    "cookie",
    [
        "garbage",
        "",
        "x" * 201,
        "x" * 5000,
        "\xff\xfe",
        '"quoted"',
        "a b",
        "null",
        "undefined",
        '{"$ne": null}',
        "expired",
        "forged",
    ],
)
def test_a_bad_session_cookie_is_401(ann, unchanged, cookie):
    token = {"expired": lambda: expired_token(ann.db, ann.user), "forged": forged_token}.get(cookie, lambda: cookie)()
    intruder = webtest.TestApp(ann.app)
    headers = {"Cookie": f"session={token}"}
    for method, url, body in [
        ("get", f"/v1/room/{ann.user}", None),
        ("get", f"/v1/logs/{ann.room}", None),
        ("get", "/v1/stats", None),
        ("get", f"/v1/events/{ann.room}", None),
        ("post", f"/v1/logs/{ann.room}", {"m": "intruder"}),
        ("post", "/v1/room", {"userid": ann.user, "action": "leave", "roomid": ann.room}),
    ]:
        if method == "get":
            res = intruder.get(url, headers=headers, status=401)
        else:
            res = intruder.post_json(url, body, headers=headers, status=401)
        assert res.json == {"error": "log in first"}
    res = intruder.post("/v1/image", headers=headers, upload_files=[("file", "a.png", png())], status=401)
    assert res.json == {"error": "log in first"}


@pytest.mark.parametrize(
    "header",
    [
        "$=; session=TOKEN",
        "session=TOKEN; $Version=1",
        "0=; $=; session=TOKEN",
        "a=b; e&l; session=TOKEN",
        'x="unterminated; session=TOKEN',
        "=; ;;session=TOKEN",
    ],
)
def test_other_malformed_cookies_do_not_hide_the_session(ann, unchanged, header):
    """Another site on the domain may set junk cookies: the session still works, nothing breaks."""
    headers = {"Cookie": header.replace("TOKEN", ann.cookies["session"])}
    visitor = webtest.TestApp(ann.app)
    assert visitor.get(f"/v1/room/{ann.user}", headers=headers, status=200).json["join_rooms"]
    assert visitor.get(f"/v1/room/{ann.user}", headers={"Cookie": header.replace("TOKEN", "x")}, status=401)


# Images: the form, its key and file name, and paths under /media/.

BOUNDARY = "hostileBoundary"
IMAGE_PART = b'Content-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n' + png(
    seed=42
)


def multipart(*parts: bytes) -> bytes:
    boundary = BOUNDARY.encode()
    return b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts) + b"--" + boundary + b"--\r\n"


def key_part(raw: bytes) -> bytes:
    return b'Content-Disposition: form-data; name="key"\r\n\r\n' + raw


@pytest.fixture
def uploader(make_app, memory_settings, new_user):
    """A user of the embedded default (tasks in-process, images under DATA_DIR/media)."""
    client = new_user(app=make_app(memory_settings))
    client.db = client.app.config["chat.store"].db
    client.data_dir = memory_settings.data_dir
    return client


def upload_raw(client, body: bytes, content_type: str = f"multipart/form-data; boundary={BOUNDARY}"):
    request = webtest.TestRequest.blank("/v1/image", method="POST", body=body, headers={"Content-Type": content_type})
    return client.do_request(request, status="*", expect_errors=True)


def stored_files(data_dir) -> list:
    """Files under DATA_DIR but the service's own Web Push key (made at start)."""
    return sorted(str(p.relative_to(data_dir)) for p in data_dir.rglob("*") if p.is_file() and p.name != "vapid.pem")


@pytest.mark.parametrize(
    "body, content_type",
    [
        (multipart(key_part(b"line\r\nX-Amz-Meta-Evil: 1"), IMAGE_PART), None),
        (multipart(key_part(b"line\nX-Amz-Meta-Evil: 1"), IMAGE_PART), None),
        (multipart(key_part(b"line\rX-Amz-Meta-Evil: 1"), IMAGE_PART), None),
        (multipart(key_part(b"nul\x00"), IMAGE_PART), None),
        (multipart(key_part("c1\u0085next line".encode()), IMAGE_PART), None),
        (multipart(key_part(b"\xff\xfe"), IMAGE_PART), None),
        (multipart(key_part(b"k" * 256), IMAGE_PART), None),
        (
            b"--"
            + BOUNDARY.encode()
            + b"\r\nContent-Disposition: "
            + b"a" * 1_000_000
            + b"\r\n\r\nx\r\n--"
            + BOUNDARY.encode()
            + b"--\r\n",
            None,
        ),
        (b"--" + BOUNDARY.encode() + b"\r\n" + b"X-A: b\r\n" * 100_000 + b"\r\n", None),
        (multipart(IMAGE_PART), "multipart/form-data; boundary=" + "b" * 100_000),
        (multipart(IMAGE_PART), "multipart/form-data; boundary="),
        (multipart(IMAGE_PART.replace(b'filename="a.png"', b'filename="evil\x00.png"')), None),
        (multipart(IMAGE_PART)[:-30], None),
        (multipart(IMAGE_PART, IMAGE_PART), None),
        (b"", None),
    ],
    ids=[
        "crlf-key",
        "lf-key",
        "cr-key",
        "nul-key",
        "c1-key",
        "not-utf8-key",
        "long-key",
        "megabyte-header-line",
        "100k-headers",
        "huge-boundary",
        "empty-boundary",
        "nul-in-file-name",
        "truncated",
        "two-files",
        "empty",
    ],
)
def test_hostile_uploads_are_400_and_store_nothing(uploader, body, content_type):
    res = upload_raw(uploader, body, content_type or f"multipart/form-data; boundary={BOUNDARY}")
    assert res.status_int == 400 and res.content_type == "text/html" and "400 Bad Request" in res.text
    assert stored_files(uploader.data_dir) == []
    assert uploader.db.activity.count_documents({"act": "upload"}) == 0
    assert_clean(uploader.db)


@pytest.mark.parametrize(
    "filename", [b"../../../../tmp/evil.png", b"/etc/passwd", b"a\r\nX-Evil: 1.png", b"..\\..\\evil.png"]
)
def test_the_file_name_never_becomes_a_path(uploader, filename):
    part = IMAGE_PART.replace(b'filename="a.png"', b'filename="' + filename + b'"')
    res = upload_raw(uploader, multipart(part))
    name = f"images/{hashlib.sha256(png(seed=42)).hexdigest()}.png"
    assert res.status_int == 200 and res.json == {"url": f"/media/{name}"}
    assert stored_files(uploader.data_dir) == [f"media/{name}"]


@pytest.mark.parametrize(
    "path, status",
    [
        ("/media/images/%00.png", 404),
        ("/media/images/..%5c..%5csecret.png", 404),
        ("/media/%252e%252e/secret.png", 404),
        ("/media/%c0%ae%c0%ae/secret.png", 400),  # overlong UTF-8 for '.': not UTF-8 at all
        ("/media/images/%E2%80%A4%E2%80%A4/secret.png", 404),  # one-dot leaders, not dots
        ("/media/" + "../" * 50 + "secret.png", 404),
        ("/media/" + "a" * 10_000, 404),
        ("/media/images/%2e%2e%2f%2e%2e%2fsecret.png%00.png", 404),
    ],
)
def test_paths_under_media_never_leave_its_folder(uploader, path, status):
    secret = uploader.data_dir / "secret.png"
    secret.write_bytes(png(seed=666))
    status_, _, body = raw_call(uploader.app, "GET", unquote_to_bytes(path))
    assert status_ == status and secret.read_bytes() not in body
