"""Notifications: a member's level per room, and Web Push (the service's key, the browser's subscriptions)."""

import base64
import binascii
import ipaddress
from urllib.parse import urlsplit

from bottle import HTTPResponse, response
from cryptography.hazmat.primitives.asymmetric import ec

from routes.common import celery, current_user, fail, read_fields, store
from routes.inputs import valid_room_id
from store.attention import LEVELS
from store.errors import Conflict, NotMember, RoomGone
from store.push import public_key

ENDPOINT_MAX = 1024  # push services' endpoints are a few hundred characters
LOOPBACK = {"localhost", "127.0.0.1", "::1"}  # plain http only here: a push service on this machine (tests)


def set_level(roomid):
    """PUT /v1/rooms/<roomid>/notify {level}: 200 {level}; 400, 401, 403 (public room, not a member), 404."""
    user = current_user()
    if not valid_room_id(roomid):
        fail(404, "no such room")
    level = read_fields().get("level")
    if not isinstance(level, str) or level not in LEVELS:
        fail(400, "level must be one of " + ", ".join(LEVELS))
    try:
        return {"level": store().attention.set_level(user, roomid, level)}
    except RoomGone:
        fail(404, "no such room")
    except NotMember:
        fail(403, "you are not a member of this room")


def push_key():
    """GET /v1/push/key: 200 {publicKey}, the applicationServerKey for PushManager.subscribe; 401."""
    current_user()
    return {"publicKey": public_key(celery().chat_vapid)}


def endpoint_of(value) -> str:
    """A push service's URL: https (plain http only to this machine), no credentials, not a private address."""
    if not isinstance(value, str) or not 1 <= len(value) <= ENDPOINT_MAX or not value.isascii():
        fail(400, f"endpoint must be an https URL of at most {ENDPOINT_MAX} characters")
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        fail(400, "endpoint must be an https URL")
    if any(c.isspace() or ord(c) < 32 for c in value) or "@" in parts.netloc or not host or parts.fragment:
        fail(400, "endpoint must be an https URL without credentials or fragment")
    if parts.scheme == "http" and host in LOOPBACK:
        return value
    if parts.scheme != "https":
        fail(400, "endpoint must be an https URL")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return value  # a host name: push services are named
    if not (address.is_global or address.is_loopback):
        fail(400, "endpoint must not be a private network address")
    return value


def key_bytes(value, field: str, size: int) -> str:
    """A base64url key of exactly `size` bytes (padding allowed), as PushSubscription.toJSON() gives it."""
    if isinstance(value, str) and len(value) <= 200:
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) == size and value.rstrip("=").replace("-", "").replace("_", "").isalnum():
            return value.rstrip("=")
    fail(400, f"keys.{field} must be base64url of {size} bytes")


def subscribe():
    """POST /v1/push/subscriptions {endpoint, keys: {p256dh, auth}, previews?}: 201 new, 200 again; 400, 401."""
    user = current_user()
    fields = read_fields()
    if set(fields) - {"endpoint", "keys", "previews"}:
        fail(400, "only endpoint, keys and previews are taken")
    endpoint = endpoint_of(fields.get("endpoint"))
    keys = fields.get("keys")
    if not isinstance(keys, dict) or set(keys) - {"p256dh", "auth"}:
        fail(400, "keys must be {p256dh, auth}")
    p256dh = key_bytes(keys.get("p256dh"), "p256dh", 65)
    auth = key_bytes(keys.get("auth"), "auth", 16)
    try:
        raw = base64.urlsafe_b64decode(p256dh + "=" * (-len(p256dh) % 4))
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        fail(400, "keys.p256dh must be an uncompressed P-256 public key")
    previews = fields.get("previews", False)
    if not isinstance(previews, bool):
        fail(400, "previews must be true or false")
    try:
        new = store().push.save(user, endpoint, p256dh, auth, previews)
    except Conflict as exc:
        fail(400, str(exc))
    response.status = 201 if new else 200
    return {"endpoint": endpoint, "previews": previews}


def unsubscribe():
    """DELETE /v1/push/subscriptions {endpoint}: 204 (also when there was none); 400, 401."""
    user = current_user()
    endpoint = read_fields().get("endpoint")
    if not isinstance(endpoint, str) or not 1 <= len(endpoint) <= ENDPOINT_MAX:
        fail(400, f"endpoint must be a URL of at most {ENDPOINT_MAX} characters")
    store().push.delete(user, endpoint)
    return HTTPResponse(status=204)


def register(app) -> None:
    app.put("/v1/rooms/<roomid>/notify", callback=set_level)
    app.get("/v1/push/key", callback=push_key)
    app.post("/v1/push/subscriptions", callback=subscribe)
    app.delete("/v1/push/subscriptions", callback=unsubscribe)
