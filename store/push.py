"""Web Push: the service's VAPID key, and each user's push subscriptions (one per browser endpoint)."""

import base64
import hashlib
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pymongo import ReturnDocument

from store.db import now
from store.errors import Conflict

SUBSCRIPTIONS_MAX = 10  # per user: browsers and devices; a user past it deletes one first


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def vapid_key(configured: str | None, data_dir: Path) -> str:
    """The VAPID private key as base64url of its 32 bytes: the configured one, else DATA_DIR/vapid.pem,
    generated once (created exclusively, mode 0600, so two processes starting at once keep one key)."""
    if configured:
        return configured
    path = Path(data_dir) / "vapid.pem"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    else:
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        with os.fdopen(fd, "wb") as file:
            file.write(pem)
            file.flush()
            os.fsync(file.fileno())
    return b64url(key.private_numbers().private_value.to_bytes(32, "big"))


def public_key(private: str) -> str:
    """base64url of the uncompressed P-256 point: what PushManager.subscribe takes as applicationServerKey."""
    scalar = int.from_bytes(base64.urlsafe_b64decode(private + "=" * (-len(private) % 4)), "big")
    point = ec.derive_private_key(scalar, ec.SECP256R1()).public_key()
    return b64url(point.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))


def endpoint_id(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()


class Subscriptions:
    """`push`: {_id: sha256(endpoint), endpoint, p256dh, auth, previews, u, t}."""

    def __init__(self, db):
        self._db = db

    def save(self, user: str, endpoint: str, p256dh: str, auth: str, previews: bool) -> bool:
        """Keep the subscription for the user; True when it is new to them. An endpoint is one browser's, so a
        subscription another user held moves to this one (they logged in there). Conflict past SUBSCRIPTIONS_MAX."""
        key = endpoint_id(endpoint)
        held = self._db.push.find_one({"_id": key}, {"u": 1})
        if (held is None or held["u"] != user) and self._db.push.count_documents({"u": user}) >= SUBSCRIPTIONS_MAX:
            raise Conflict(f"at most {SUBSCRIPTIONS_MAX} push subscriptions per user: delete one first")
        fields = {"endpoint": endpoint, "p256dh": p256dh, "auth": auth, "previews": previews, "u": user}
        before = self._db.push.find_one_and_update(
            {"_id": key},
            {"$set": fields, "$setOnInsert": {"t": now()}},
            upsert=True,
            projection={"u": 1},
            return_document=ReturnDocument.BEFORE,
        )
        # After it is stored: a post in these rooms queues its push task from now on (see Rooms.note_push).
        rooms = [doc["_id"] for doc in self._db.rooms.find({"members": user}, {"_id": 1})]
        for i in range(0, len(rooms), 50):  # `$in` grows worse than linearly on SecantusDB
            self._db.timelines.update_many({"_id": {"$in": rooms[i : i + 50]}, "push": False}, {"$set": {"push": True}})
        return before is None or before["u"] != user

    def delete(self, user: str, endpoint: str) -> None:
        """Forget the user's subscription at this endpoint (none is fine: a retry)."""
        self._db.push.delete_one({"_id": endpoint_id(endpoint), "u": user})

    def drop(self, subscription_id: str, endpoint: str) -> None:
        """Forget a subscription the push service says is gone (unless it was replaced meanwhile)."""
        self._db.push.delete_one({"_id": subscription_id, "endpoint": endpoint})

    def of(self, users: list[str]) -> list[dict]:
        """The subscriptions of these users."""
        return list(self._db.push.find({"u": {"$in": users}})) if users else []

    def get(self, subscription_id: str) -> dict | None:
        return self._db.push.find_one({"_id": subscription_id})


def message_notice(db, roomid: str, message_id: int) -> dict | None:
    """What a notification of this message needs: the room's name, kind, visibility and members, and the
    message's author, text and mentions; None when the room or the message is gone (or it was deleted)."""
    room = db.rooms.find_one({"_id": roomid}, {"name": 1, "kind": 1, "visibility": 1, "members": 1, "pair": 1})
    message = db.messages.find_one({"room": roomid, "id": message_id}, {"u": 1, "m": 1, "mentions": 1, "deleted": 1})
    if room is None or message is None or message.get("deleted"):
        return None
    return {
        "roomid": roomid,
        "id": message_id,
        "name": room["name"],
        "kind": room.get("kind", "room"),
        "private": room.get("visibility", "public") == "private",
        "members": room["members"],
        "author": message["u"],
        "text": message["m"],
        "mentions": message.get("mentions", []),
    }
