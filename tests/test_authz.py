"""The authorization matrix: every route of the app x every kind of caller, from ONE table.

Each row is `"METHOD /path/{param}": (request, {caller: status})`; a route of the app without a row
(or a row without a route) fails. To add a route, add a row: `request(world, caller)` returns
(path, body) and may use the world's rooms, users and link tokens; start from a shared status pattern.

Callers and the room they aim at: `anonymous` (no session, the private room), `other` (logged in,
naming another user where the route names one; else as outsider_public), `outsider_public` (not in the
public room), `outsider_private` (not in the private room), `invited` (invited to the private room),
`member`, `owner` (of both rooms), `admin` (ADMIN_USERS, in neither room).
"""

import re
import secrets
from dataclasses import dataclass, replace

import pymongo
import pytest
import webtest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from chat import create_app
from scripts.sample_images import png
from settings import Settings
from store.push import b64url
from store.sessions import session_key
from tests.helpers import PASSWORD

AUTHZ_DB = "chat_authz"
CALLERS = ("anonymous", "other", "outsider_public", "outsider_private", "invited", "member", "owner", "admin")
USERS = {
    "other": "other@example.com",
    "outsider_public": "outsider@example.com",
    "outsider_private": "outsider@example.com",
    "invited": "invited@example.com",
    "member": "member@example.com",
    "owner": "owner@example.com",
    "admin": "admin@example.com",
}
NEWCOMER = "newcomer@example.com"  # invited by the invite rows
TARGET = "target@example.com"  # deactivated and reactivated by the admin rows


def pattern(anonymous=401, other=None, outsider_public=None, outsider_private=None, invited=None, **rest) -> dict:
    """A row's statuses: every caller named, `other` defaulting to outsider_public, invited to outsider_private."""
    statuses = {
        "anonymous": anonymous,
        "outsider_public": outsider_public,
        "outsider_private": outsider_private,
        "invited": invited if invited is not None else outsider_private,
        **rest,
    }
    statuses["other"] = other if other is not None else outsider_public
    assert set(statuses) == set(CALLERS), statuses
    return statuses


def everyone(status: int, anonymous: int = 401) -> dict:
    return {caller: anonymous if caller == "anonymous" else status for caller in CALLERS}


# The seed's member-only routes: a public room's outsider gets 403, a private room is as if it did not exist (400).
SEED_MEMBERS_ONLY = pattern(outsider_public=403, outsider_private=400, member=200, owner=200, admin=400)
# The new room routes: the same, with 404 for a room that does not exist.
MEMBERS_ONLY = pattern(outsider_public=403, outsider_private=404, member=200, owner=200, admin=404)
# Moderation: the owner and admins; a member is refused, a private room's outsider does not see it.
OWNER_OR_ADMIN = pattern(outsider_public=403, outsider_private=404, member=403, owner=200, admin=200)


@dataclass
class World:
    public: str
    private: str
    public_link: str
    private_link: str
    image: str
    owner_session: str = ""
    hooks: dict = None  # room -> (hook id, token) of a webhook the owner made

    def hook(self, caller: str) -> tuple[str, str]:
        return self.hooks[self.room(caller)]

    def room(self, caller: str) -> str:
        return self.public if caller in ("other", "outsider_public") else self.private

    def me(self, caller: str) -> str:
        return USERS.get(caller, USERS["outsider_public"])

    def named(self, caller: str) -> str:
        """The user a route's userid names: someone else for `other`, else the caller."""
        return USERS["owner"] if caller == "other" else self.me(caller)

    def link(self, caller: str) -> str:
        return self.public_link if caller in ("other", "outsider_public") else self.private_link


def push_subscription(world, caller):
    """A new browser's subscription (a fresh endpoint each time, so each caller's is new: 201)."""
    point = (
        ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    )
    keys = {"p256dh": b64url(point), "auth": b64url(secrets.token_bytes(16))}
    return "/v1/push/subscriptions", {"endpoint": f"https://push.example.com/{secrets.token_hex(8)}", "keys": keys}


def room_body(world, caller):
    return {"userid": world.named(caller), "action": "enter", "roomid": world.room(caller)}


TABLE = {
    "GET /": (lambda w, c: ("/", None), everyone(200, 200)),
    "GET /static/{path}": (lambda w, c: ("/static/chat.css", None), everyone(200, 200)),
    "GET /healthz": (lambda w, c: ("/healthz", None), everyone(200, 200)),
    "GET /v1/openapi.json": (lambda w, c: ("/v1/openapi.json", None), everyone(200, 200)),
    "POST /auth/register": (
        lambda w, c: ("/auth/register", {"username": f"n{secrets.token_hex(4)}@example.com", "password": PASSWORD}),
        everyone(201, 201),
    ),
    "POST /auth/login": (
        lambda w, c: ("/auth/login", {"username": w.me(c), "password": PASSWORD if c != "anonymous" else "wrong!!!"}),
        everyone(200, 401),
    ),
    "GET /auth/logout": (lambda w, c: ("/auth/logout", None), everyone(200, 200)),
    "POST /auth/logout": (lambda w, c: ("/auth/logout", None), everyone(200, 200)),
    "GET /auth/me": (lambda w, c: ("/auth/me", None), everyone(200)),
    "POST /auth/password": (
        lambda w, c: ("/auth/password", {"current": PASSWORD, "password": PASSWORD}),
        {**everyone(200), "anonymous": 401},
    ),
    "POST /auth/reset": (lambda w, c: ("/auth/reset", {"username": w.me(c)}), everyone(202, 202)),
    # No caller holds a reset token: the route never looks at the session.
    "POST /auth/reset/confirm": (
        lambda w, c: ("/auth/reset/confirm", {"token": "a" * 43, "password": PASSWORD}),
        everyone(400, 400),
    ),
    "GET /v1/export": (lambda w, c: ("/v1/export", None), everyone(200)),
    # A wrong password: the rows must not delete the callers (the matrix reuses them); the right one is
    # tests/test_accounts.py's. Only a session reaches the password check.
    "DELETE /v1/profile": (
        lambda w, c: ("/v1/profile", {"password": "not the password", "erase": False}),
        everyone(401),
    ),
    "POST /v1/admin/users/{userid}/deactivate": (
        lambda w, c: (f"/v1/admin/users/{TARGET}/deactivate", {}),
        {**everyone(403), "admin": 200},
    ),
    "POST /v1/admin/users/{userid}/reactivate": (
        lambda w, c: (f"/v1/admin/users/{TARGET}/reactivate", {}),
        {**everyone(403), "admin": 200},
    ),
    "GET /v1/sessions": (lambda w, c: ("/v1/sessions", None), everyone(200)),
    "DELETE /v1/sessions": (lambda w, c: ("/v1/sessions", None), everyone(200)),
    # A session id of the owner's: only the owner may end it; for everyone else it does not exist.
    "DELETE /v1/sessions/{id}": (
        lambda w, c: (f"/v1/sessions/{w.owner_session}", None),
        {**everyone(404), "owner": 204},
    ),
    "GET /v1/room/{userid}": (lambda w, c: (f"/v1/room/{w.named(c)}", None), {**everyone(200), "other": 403}),
    "POST /v1/room": (
        lambda w, c: ("/v1/room", room_body(w, c)),
        pattern(other=403, outsider_public=200, outsider_private=400, invited=200, member=200, owner=200, admin=400),
    ),
    "GET /v1/logs/{roomid}": (lambda w, c: (f"/v1/logs/{w.room(c)}", None), SEED_MEMBERS_ONLY),
    "POST /v1/logs/{roomid}": (
        lambda w, c: (f"/v1/logs/{w.room(c)}", {"m": "hello"}),
        {**SEED_MEMBERS_ONLY, "member": 201, "owner": 201},
    ),
    "GET /v1/events/{roomid}": (lambda w, c: (f"/v1/events/{w.room(c)}", None), SEED_MEMBERS_ONLY),
    "GET /v1/events": (lambda w, c: ("/v1/events", None), everyone(200)),
    # Message 1 of each room is the owner's: only its author edits it; its author, the owner or an admin deletes it.
    "PATCH /v1/logs/{roomid}/{id}": (
        lambda w, c: (f"/v1/logs/{w.room(c)}/1", {"m": "edited"}),
        {**SEED_MEMBERS_ONLY, "member": 403},
    ),
    "DELETE /v1/logs/{roomid}/{id}": (
        lambda w, c: (f"/v1/logs/{w.room(c)}/1", None),
        {**SEED_MEMBERS_ONLY, "member": 403, "admin": 200},
    ),
    "PUT /v1/logs/{roomid}/{id}/reactions/{emoji}": (
        lambda w, c: (f"/v1/logs/{w.room(c)}/1/reactions/%F0%9F%91%8D", None),
        SEED_MEMBERS_ONLY,
    ),
    "DELETE /v1/logs/{roomid}/{id}/reactions/{emoji}": (
        lambda w, c: (f"/v1/logs/{w.room(c)}/1/reactions/%F0%9F%91%8D", None),
        SEED_MEMBERS_ONLY,
    ),
    "GET /v1/stats": (lambda w, c: ("/v1/stats", None), everyone(200)),
    "POST /v1/image": (lambda w, c: ("/v1/image", "IMAGE"), everyone(200)),
    "GET /media/{name}": (lambda w, c: (w.image, None), everyone(200, 200)),
    "GET /favicon.ico": (lambda w, c: ("/favicon.ico", None), everyone(200, 200)),
    "GET /sw.js": (lambda w, c: ("/sw.js", None), everyone(200, 200)),
    "PUT /v1/rooms/{roomid}/notify": (lambda w, c: (f"/v1/rooms/{w.room(c)}/notify", {"level": "all"}), MEMBERS_ONLY),
    "GET /v1/push/key": (lambda w, c: ("/v1/push/key", None), everyone(200)),
    "POST /v1/push/subscriptions": (push_subscription, everyone(201)),
    "DELETE /v1/push/subscriptions": (
        lambda w, c: ("/v1/push/subscriptions", {"endpoint": "https://push.example.com/gone"}),
        everyone(204),
    ),
    "POST /v1/rooms/{roomid}/read": (lambda w, c: (f"/v1/rooms/{w.room(c)}/read", {"id": 1}), MEMBERS_ONLY),
    "GET /v1/mentions": (lambda w, c: ("/v1/mentions", None), everyone(200)),
    "GET /v1/search": (lambda w, c: ("/v1/search?q=hello", None), everyone(200)),
    "PUT /v1/profile": (lambda w, c: ("/v1/profile", {"name": "A Name"}), everyone(200)),
    "GET /v1/users/{userid}": (lambda w, c: (f"/v1/users/{USERS['owner']}", None), everyone(200)),
    "POST /v1/dm": (lambda w, c: ("/v1/dm", {"userid": USERS["owner"]}), everyone(200)),
    "GET /v1/invites": (lambda w, c: ("/v1/invites", None), everyone(200)),
    "DELETE /v1/invites/{roomid}": (lambda w, c: (f"/v1/invites/{w.room(c)}", None), everyone(204)),
    "POST /v1/rooms/{roomid}/invites": (
        lambda w, c: (f"/v1/rooms/{w.room(c)}/invites", {"userid": NEWCOMER}),
        {**MEMBERS_ONLY, "member": 201, "owner": 201},
    ),
    "POST /v1/rooms/{roomid}/links": (
        lambda w, c: (f"/v1/rooms/{w.room(c)}/links", {}),
        {**MEMBERS_ONLY, "member": 201, "owner": 201},
    ),
    "DELETE /v1/rooms/{roomid}/links/{token}": (
        lambda w, c: (f"/v1/rooms/{w.room(c)}/links/{w.link(c)}", None),
        {**OWNER_OR_ADMIN, "owner": 204, "admin": 204},
    ),
    "POST /v1/join/{token}": (lambda w, c: (f"/v1/join/{w.link(c)}", None), everyone(200)),
    "GET /v1/rooms/{roomid}/members": (
        lambda w, c: (f"/v1/rooms/{w.room(c)}/members", None),
        {**MEMBERS_ONLY, "admin": 200},
    ),
    "POST /v1/rooms/{roomid}/typing": (
        lambda w, c: (f"/v1/rooms/{w.room(c)}/typing", {}),
        {**MEMBERS_ONLY, "member": 204, "owner": 204},
    ),
    "PATCH /v1/rooms/{roomid}": (lambda w, c: (f"/v1/rooms/{w.room(c)}", {"name": "renamed"}), OWNER_OR_ADMIN),
    "DELETE /v1/rooms/{roomid}": (
        lambda w, c: (f"/v1/rooms/{w.room(c)}", None),
        {**OWNER_OR_ADMIN, "owner": 403, "admin": 204},
    ),
    "DELETE /v1/rooms/{roomid}/members/{userid}": (
        lambda w, c: (f"/v1/rooms/{w.room(c)}/members/{USERS['member']}", None),
        {**OWNER_OR_ADMIN, "owner": 204, "admin": 204},
    ),
    "POST /v1/rooms/{roomid}/hooks": (
        lambda w, c: (f"/v1/rooms/{w.room(c)}/hooks", {"name": "ci"}),
        {**MEMBERS_ONLY, "member": 201, "owner": 201},
    ),
    "GET /v1/rooms/{roomid}/hooks": (lambda w, c: (f"/v1/rooms/{w.room(c)}/hooks", None), MEMBERS_ONLY),
    # The owner's hook: its creator (the owner) or an admin revokes it; a member who did not make it may not.
    "DELETE /v1/rooms/{roomid}/hooks/{id}": (
        lambda w, c: (f"/v1/rooms/{w.room(c)}/hooks/{w.hook(c)[0]}", None),
        {**OWNER_OR_ADMIN, "owner": 204, "admin": 204},
    ),
    # The secret URL is the only credential: no session is looked at.
    "POST /v1/hooks/{token}": (lambda w, c: (f"/v1/hooks/{w.hook(c)[1]}", {"m": "from a bot"}), everyone(201, 201)),
}


def route_key(route) -> str:
    return f"{route.method} " + re.sub(r"<([^:>]+)(:[^>]*)?>", r"{\1}", route.rule)


@pytest.fixture(scope="module")
def app(mongo_server, tmp_path_factory):
    with pymongo.MongoClient(mongo_server.uri(AUTHZ_DB)) as client:
        client.drop_database(AUTHZ_DB)
    settings = Settings(
        mongodb_uri=mongo_server.uri(AUTHZ_DB),
        data_dir=tmp_path_factory.mktemp("authz"),
        admin_users=frozenset({USERS["admin"]}),
        register_rate=(10_000, 3600),
        login_rate_per_address=(10_000, 300),
        upload_rate=(10_000, 600),
        invite_rate=(10_000, 3600),
        link_rate=(10_000, 3600),
        typing_rate=(10_000, 10),
        export_rate=(10_000, 3600),
        reset_rate=(10_000, 3600),
        reset_rate_per_address=(10_000, 3600),
        stream_max_seconds=0.1,
    )
    built = create_app(replace(settings))  # no REDIS_URL: tasks run in-process, so uploads need no worker
    store = built.config["chat.store"]
    for email in {*USERS.values(), NEWCOMER, TARGET}:
        store.users.register(email, PASSWORD)
    yield built
    store.close()


@pytest.fixture(scope="module")
def image(app):
    uploader = session_for(app, USERS["owner"])
    return uploader.post("/v1/image", upload_files=[("file", "a.png", png())]).json["url"]


def session_for(app, email: str | None) -> webtest.TestApp:
    if email is None:
        return webtest.TestApp(app)
    token = app.config["chat.store"].sessions.open(email)
    return webtest.TestApp(app, extra_environ={"HTTP_COOKIE": f"session={token}"})


def build_world(app, image: str) -> World:
    """Fresh rooms for one case: the owner's public and private rooms, the member in both, one invitation."""
    store = app.config["chat.store"]
    owner, member = USERS["owner"], USERS["member"]
    public, private = store.rooms.create(owner, "public"), store.rooms.create(owner, "private", "private")
    for roomid in (public, private):
        store.invites.invite(owner, roomid, member)
        store.rooms.enter(member, roomid)
    store.invites.invite(owner, private, USERS["invited"])
    for roomid in (public, private):
        store.messages.post(owner, roomid, "hello")
    links = [store.invites.create_link(owner, roomid, 3600, None)["token"] for roomid in (public, private)]
    token = store.sessions.open(owner, "192.0.2.1", "authz")
    owner_session = next(s["id"] for s in store.sessions.of(owner, session_key(token)) if s["current"])
    hooks = {}
    for roomid in (public, private):
        made = store.hooks.create(owner, roomid, "bot")
        hooks[roomid] = (made["id"], made["token"])
    return World(public, private, *links, image, owner_session, hooks)


def test_every_route_has_a_row_and_every_row_a_route(app):
    assert {route_key(route) for route in app.routes} == set(TABLE)


@pytest.mark.parametrize("key", sorted(TABLE))
def test_authorization_matrix(app, image, key):
    request, statuses = TABLE[key]
    method = key.split(" ", 1)[0]
    failures = []
    for caller in CALLERS:
        world = build_world(app, image)
        client = session_for(app, None if caller == "anonymous" else world.me(caller))
        path, body = request(world, caller)
        if body == "IMAGE":
            res = client.post(path, upload_files=[("file", "a.png", png())], status="*")
        elif body is None:
            res = client.request(path, method=method, status="*")
        else:
            res = getattr(client, f"{method.lower()}_json")(path, body, status="*")
        if res.status_int != statuses[caller]:
            failures.append(f"{caller}: {res.status_int} (expected {statuses[caller]}) {res.body[:120]!r}")
    assert not failures, failures
