"""Notifications: per-room levels, and Web Push end to end through a real Celery worker to a real local push
service that checks the VAPID JWT and decrypts each payload with the subscription's private keys."""

import base64
import json
import secrets
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from scripts.servers import Worker
from settings import Settings, from_env
from store.push import SUBSCRIPTIONS_MAX, b64url
from tests.helpers import TEST_DB, Stream, User, Web, create

SUBJECT = "mailto:ops@example.com"
VAPID = b64url(ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value.to_bytes(32, "big"))
WAIT = 20  # seconds a push may take to arrive through the worker


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PushService(ThreadingHTTPServer):
    """A push service on 127.0.0.1: checks VAPID (RFC 8292), decrypts (RFC 8291) and keeps what it got per path.

    `script[path]` is a list of (status, headers) to answer in turn before 201s."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), PushHandler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.browsers: dict[str, tuple] = {}  # path -> (private key, auth secret)
        self.script: dict[str, list] = {}
        self.got: dict[str, list] = {}  # path -> [(status answered, decrypted payload, time)]
        self.problems: list[str] = []
        self.arrived = threading.Condition()
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def subscription(self, previews: bool | None = None) -> dict:
        """A new browser's subscription, as PushSubscription.toJSON() gives it (plus our `previews`)."""
        path = f"/push/{secrets.token_urlsafe(12)}"
        private, auth = ec.generate_private_key(ec.SECP256R1()), secrets.token_bytes(16)
        self.browsers[path] = (private, auth)
        point = private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        body = {"endpoint": self.url + path, "keys": {"p256dh": b64url(point), "auth": b64url(auth)}}
        return body if previews is None else {**body, "previews": previews}

    def delivered(self, subscription: dict, count: int = 1, timeout: float = WAIT) -> list[dict]:
        """The payloads delivered (answered 201) at this subscription, once there are `count` of them."""
        path = subscription["endpoint"].removeprefix(self.url)
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.ok(path)) >= count or self.problems, timeout)
        assert not self.problems, self.problems
        return self.ok(path)

    def ok(self, path: str) -> list[dict]:
        return [payload for status, payload, _ in self.got.get(path, []) if status == 201]

    def close(self):
        self.shutdown()
        self.server_close()


def check_vapid(header: str, audience: str) -> str:
    """The JWT's signature against k, and its claims; returns k (the server's public key)."""
    scheme, _, params = header.partition(" ")
    assert scheme == "vapid", header
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    token, key = fields["t"], fields["k"]
    head, claims, signature = token.split(".")
    assert json.loads(unb64(head)) == {"typ": "JWT", "alg": "ES256"}
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(key))
    raw = unb64(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise AssertionError("the VAPID signature does not verify against k") from None
    claims = json.loads(unb64(claims))
    assert claims["aud"] == audience and claims["sub"] == SUBJECT, claims
    assert time.time() < claims["exp"] <= time.time() + 24 * 3600, claims
    return key


class PushHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802 - http.server's name
        service: PushService = self.server
        body = self.rfile.read(int(self.headers["Content-Length"]))
        try:
            key = check_vapid(self.headers["Authorization"], service.url)
            assert key == PUBLIC_KEY, "signed with another key than GET /v1/push/key gives"
            assert self.headers["Content-Encoding"] == "aes128gcm" and int(self.headers["TTL"]) > 0
            private, auth = service.browsers[self.path]
            payload = json.loads(http_ece.decrypt(body, private_key=private, auth_secret=auth, version="aes128gcm"))
        except Exception as exc:  # noqa: BLE001 - the test reports it
            service.problems.append(f"{self.path}: {exc!r}")
            payload = None
        script = service.script.get(self.path) or []
        status, headers = script.pop(0) if script else (201, {})
        with service.arrived:
            service.got.setdefault(self.path, []).append((status, payload, time.monotonic()))
            service.arrived.notify_all()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()


PUBLIC_KEY = b64url(
    ec.derive_private_key(int.from_bytes(unb64(VAPID), "big"), ec.SECP256R1())
    .public_key()
    .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
)


@pytest.fixture
def push_service():
    service = PushService()
    yield service
    service.close()


@pytest.fixture(scope="module")
def push_worker(mongo_server, redis_server, tmp_path_factory):
    worker = Worker(
        Settings(
            mongodb_uri=mongo_server.uri(TEST_DB),
            redis_url=redis_server.url,
            data_dir=tmp_path_factory.mktemp("push-worker"),
            vapid_private_key=VAPID,
            vapid_subject=SUBJECT,
        ),
        log_path=tmp_path_factory.mktemp("push-log") / "worker.log",
    )
    yield worker
    worker.stop()


@pytest.fixture
def push_settings(settings):
    return replace(settings, vapid_private_key=VAPID, vapid_subject=SUBJECT)


@pytest.fixture
def app(push_worker, push_settings, make_app):
    return make_app(push_settings)


def pair(new_user, app, kind="room"):
    """(ann, bob) in one room of this kind ("room" public, "private", or "dm"), and its id."""
    ann, bob = new_user(app=app), new_user(app=app)
    if kind == "dm":
        return ann, bob, ann.post_json("/v1/dm", {"userid": bob.user}).json["roomid"]
    body = {"userid": ann.user, "action": "enter", "roomid": None, "name": "Launch plan"}
    if kind == "private":
        body["visibility"] = "private"
    roomid = ann.post_json("/v1/room", body).json["roomid"]
    if kind == "private":
        ann.post_json(f"/v1/rooms/{roomid}/invites", {"userid": bob.user}, status=201)
    bob.post_json("/v1/room", {"userid": bob.user, "action": "enter", "roomid": roomid})
    return ann, bob, roomid


def subscribe(client, service, previews=None):
    body = service.subscription(previews)
    client.post_json("/v1/push/subscriptions", body, status=201)
    return body


def say(client, roomid, text) -> int:
    return client.post_json(f"/v1/logs/{roomid}", {"m": text}, status=201).json["id"]


def name_of(client) -> str:
    return client.user.split("@")[0]


def test_a_mention_arrives_signed_and_encrypted_and_a_plain_message_does_not(app, new_user, push_service):
    ann, bob, roomid = pair(new_user, app)
    assert bob.get("/v1/push/key").json == {"publicKey": PUBLIC_KEY}
    sub = subscribe(bob, push_service)
    say(ann, roomid, "a plain message")
    long = f"@{bob.user} " + "x" * 200
    message_id = say(ann, roomid, long)
    (got,) = push_service.delivered(sub)
    assert got == {
        "roomid": roomid,
        "id": message_id,
        "room": "Launch plan",
        "sender": name_of(ann),
        "text": long[:119] + "…",
        "mention": True,
        "url": f"/#room={roomid}",
    }
    time.sleep(1)
    assert len(push_service.got[sub["endpoint"].removeprefix(push_service.url)]) == 1  # the plain one never came


def test_a_direct_message_notifies_by_default_and_shows_text_only_where_allowed(app, new_user, push_service):
    ann, bob, roomid = pair(new_user, app, "dm")
    rooms = bob.get(f"/v1/room/{bob.user}").json["join_rooms"]
    assert [room["notify"] for room in rooms if room["roomid"] == roomid] == ["all"]
    hidden, shown = subscribe(bob, push_service), subscribe(bob, push_service, previews=True)
    say(ann, roomid, "lunch?")
    (plain,) = push_service.delivered(hidden)
    (preview,) = push_service.delivered(shown)
    assert plain["text"] is None and preview["text"] == "lunch?"
    assert plain["room"] == plain["sender"] == name_of(ann) and plain["mention"] is False


def test_a_muted_room_never_notifies_and_own_messages_never_do(app, new_user, push_service):
    ann, bob, roomid = pair(new_user, app)
    cat, _, loud = pair(new_user, app)
    bob.post_json("/v1/room", {"userid": bob.user, "action": "enter", "roomid": loud})
    sub = subscribe(bob, push_service)
    assert bob.put_json(f"/v1/rooms/{roomid}/notify", {"level": "nothing"}).json == {"level": "nothing"}
    assert bob.put_json(f"/v1/rooms/{loud}/notify", {"level": "all"}).json == {"level": "all"}
    levels = {room["roomid"]: room["notify"] for room in bob.get(f"/v1/room/{bob.user}").json["join_rooms"]}
    assert levels == {roomid: "nothing", loud: "all"}
    say(ann, roomid, f"@{bob.user} are you there?")  # muted
    say(bob, loud, f"@room and @{bob.user}, my own")  # his own, in a room set to "all"
    last = say(cat, loud, "news for everyone")  # "all": a plain message notifies
    (got,) = push_service.delivered(sub)
    assert got["id"] == last and got["roomid"] == loud and got["mention"] is False
    time.sleep(1)
    assert len(push_service.got[sub["endpoint"].removeprefix(push_service.url)]) == 1


def test_a_subscription_the_push_service_calls_gone_is_deleted(app, new_user, push_service, push_settings):
    ann, bob, roomid = pair(new_user, app, "dm")
    sub = subscribe(bob, push_service)
    push_service.script[sub["endpoint"].removeprefix(push_service.url)] = [(410, {})]
    say(ann, roomid, "hello?")
    store = app.config["chat.store"]
    deadline = time.monotonic() + WAIT
    while store.db.push.count_documents({"u": bob.user}) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert store.db.push.count_documents({"u": bob.user}) == 0
    assert [status for status, *_ in push_service.got[sub["endpoint"].removeprefix(push_service.url)]] == [410]


def test_a_busy_push_service_gets_the_message_again_after_retry_after(app, new_user, push_service):
    ann, bob, roomid = pair(new_user, app, "dm")
    sub = subscribe(bob, push_service)
    path = sub["endpoint"].removeprefix(push_service.url)
    push_service.script[path] = [(429, {"Retry-After": "2"}), (503, {})]
    message_id = say(ann, roomid, "are you busy?")
    (got,) = push_service.delivered(sub, timeout=WAIT + 5)
    assert got["id"] == message_id
    (first, *_), (second, *_), (third, *_) = push_service.got[path]
    assert (first, second, third) == (429, 503, 201)
    times = [t for *_, t in push_service.got[path]]
    assert times[1] - times[0] >= 1.9  # Retry-After honoured; then the backoff (2 s for the second retry)
    assert app.config["chat.store"].db.push.count_documents({"u": bob.user}) == 1


def test_someone_with_a_page_open_gets_no_push(push_worker, push_settings, new_user, push_service, tmp_path):
    web = Web(push_settings, tmp_path)
    try:
        ann, bob = User(web), User(web)
        roomid = ann.call(web, "post", "/v1/dm", {"userid": bob.user})["roomid"]
        sub = push_service.subscription()
        bob.call(web, "post", "/v1/push/subscriptions", sub, 201)
        stream = Stream(web, roomid, bob.cookie)
        assert stream.status == 200
        stream.block()  # the stream is open: bob is online
        ann.say(web, roomid, "seen on the page")
        stream.events_until(lambda b: b.get("event") == "message")
        time.sleep(2)  # the page stays open while the worker looks at the message
        stream.close()

        def online():
            members = bob.call(web, "get", f"/v1/rooms/{roomid}/members")["members"]
            return [m["online"] for m in members if m["userid"] == bob.user] == [True]

        deadline = time.monotonic() + 10
        while online() and time.monotonic() < deadline:
            time.sleep(0.1)
        last = ann.say(web, roomid, "now he is away")["id"]
        (got,) = push_service.delivered(sub)
        assert got["id"] == last  # only the message sent while no page was open
    finally:
        web.stop()


# The routes themselves: no worker needed.


@pytest.fixture
def plain_app(push_settings, make_app):
    return make_app(push_settings)


def test_levels_are_for_members_and_known_levels_only(plain_app, new_user):
    ann, bob = new_user(app=plain_app), new_user(app=plain_app)
    roomid = create(ann, "Plans")
    assert ann.get(f"/v1/room/{ann.user}").json["join_rooms"][0]["notify"] == "mentions"
    for level in ("loud", "", None, ["all"], {"$ne": 1}, 1):
        ann.put_json(f"/v1/rooms/{roomid}/notify", {"level": level}, status=400)
    bob.put_json(f"/v1/rooms/{roomid}/notify", {"level": "all"}, status=403)
    bob.put_json("/v1/rooms/nosuchroom/notify", {"level": "all"}, status=404)
    ann.put("/v1/rooms/" + roomid + "/notify", "level=all", content_type="application/x-www-form-urlencoded")
    assert ann.put_json(f"/v1/rooms/{roomid}/notify", {"level": "all"}).json == {"level": "all"}  # again: the same


HOSTILE = [
    {"endpoint": "http://push.example.com/x"},  # plain http to another machine
    {"endpoint": "ftp://push.example.com/x"},
    {"endpoint": "https://10.0.0.7/x"},  # a private network
    {"endpoint": "https://169.254.169.254/latest"},  # cloud metadata
    {"endpoint": "https://user:pw@push.example.com/x"},
    {"endpoint": "https://push.example.com/" + "x" * 1100},
    {"endpoint": "https://push.example.com:notaport/x"},
    {"endpoint": "https://push.example.com/x y"},
    {"endpoint": ["https://push.example.com/x"]},
    {"endpoint": None},
    {"keys": {"p256dh": "short", "auth": "AAAAAAAAAAAAAAAAAAAAAA"}},
    {"keys": {"p256dh": b64url(b"\x04" + b"\x01" * 64), "auth": "AAAAAAAAAAAAAAAAAAAAAA"}},  # not on the curve
    {"keys": {"auth": "AAAAAAAAAAAAAAAAAAAAAA"}},
    {"keys": "p256dh"},
    {"previews": "yes"},
    {"extra": 1},
]


@pytest.mark.parametrize("change", HOSTILE)
def test_hostile_subscriptions_are_400(plain_app, new_user, push_service, change):
    ann = new_user(app=plain_app)
    body = push_service.subscription()
    if "keys" in change and isinstance(change["keys"], dict):
        change = {"keys": {**change["keys"]}}
    ann.post_json("/v1/push/subscriptions", {**body, **change}, status=400)
    assert plain_app.config["chat.store"].db.push.count_documents({}) == 0


def test_subscribing_again_is_200_deleting_is_204_and_a_user_has_a_limit(plain_app, new_user, push_service):
    ann, bob = new_user(app=plain_app), new_user(app=plain_app)
    sub = push_service.subscription()
    assert ann.post_json("/v1/push/subscriptions", sub, status=201).json == {
        "endpoint": sub["endpoint"],
        "previews": False,
    }
    ann.post_json("/v1/push/subscriptions", sub, status=200)
    bob.post_json("/v1/push/subscriptions", sub, status=201)  # the same browser, now bob's
    store = plain_app.config["chat.store"]
    assert [doc["u"] for doc in store.db.push.find()] == [bob.user]
    ann.delete_json("/v1/push/subscriptions", {"endpoint": sub["endpoint"]}, status=204)  # not hers: nothing
    assert store.db.push.count_documents({}) == 1
    bob.delete_json("/v1/push/subscriptions", {"endpoint": sub["endpoint"]}, status=204)
    bob.delete_json("/v1/push/subscriptions", {"endpoint": sub["endpoint"]}, status=204)  # again
    assert store.db.push.count_documents({}) == 0
    for _ in range(SUBSCRIPTIONS_MAX):
        ann.post_json("/v1/push/subscriptions", push_service.subscription(), status=201)
    ann.post_json("/v1/push/subscriptions", push_service.subscription(), status=400)


def test_the_key_is_a_p256_point_kept_under_data_dir_when_not_set(push_settings, make_app, tmp_path, new_user):
    app = make_app(replace(push_settings, vapid_private_key=None, data_dir=tmp_path / "own"))
    key = unb64(new_user(app=app).get("/v1/push/key").json["publicKey"])
    assert len(key) == 65 and key[0] == 4
    assert (tmp_path / "own" / "vapid.pem").stat().st_mode & 0o777 == 0o600
    again = make_app(replace(push_settings, vapid_private_key=None, data_dir=tmp_path / "own"))
    assert new_user(app=again).get("/v1/push/key").json["publicKey"] == b64url(key)


@pytest.mark.parametrize(
    "env", [{"VAPID_PRIVATE_KEY": "not a key"}, {"VAPID_SUBJECT": "ops@example.com"}, {"VAPID_SUBJECT": "http://x.org"}]
)
def test_bad_vapid_settings_stop_the_start_with_one_line(env):
    with pytest.raises(SystemExit) as stopped:
        from_env(env)
    assert str(stopped.value).startswith(next(iter(env)))
    assert "not a key" not in str(stopped.value)  # the key is never repeated


def test_the_service_worker_is_served_at_the_root(plain_app):
    import webtest

    res = webtest.TestApp(plain_app).get("/sw.js")
    assert res.content_type == "text/javascript" and "notificationclick" in res.text
    assert "worker-src 'self'" in webtest.TestApp(plain_app).get("/").headers["Content-Security-Policy"]
