"""Incoming room webhooks: a secret URL that posts into one room as a bot; the token is stored as a SHA-256.

A hook lives while its room exists and its creator is in it: checked on every use and listing, so a
room's deletion or the creator's leave ends it without touching the rooms code.
"""

import hashlib
import secrets

from store.db import iso, now
from store.errors import Forbidden, NotFound, NotMember
from store.rooms import require_room

HOOKS_PER_ROOM = 50


def hook_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def public_hook(doc: dict) -> dict:
    return {"id": doc["_id"], "name": doc["name"], "by": doc["by"], "created": iso(doc["created"])}


class Hooks:
    def __init__(self, db):
        self._db = db

    def _member_room(self, user: str, roomid: str) -> dict:
        room = require_room(self._db, roomid, user=user)
        if "members" not in room:
            raise NotMember(roomid)
        return room

    def _alive(self, doc: dict) -> bool:
        """The room still exists with the creator in it; a dead hook is removed."""
        if self._db.rooms.find_one({"_id": doc["room"], "members": doc["by"]}, {"_id": 1}):
            return True
        self._db.hooks.delete_one({"_id": doc["_id"]})
        return False

    def create(self, user: str, roomid: str, name: str) -> dict:
        """A new hook of a member's: {id, name, token}; RoomGone, NotMember, Forbidden (too many)."""
        self._member_room(user, roomid)
        if self._db.hooks.count_documents({"room": roomid}) >= HOOKS_PER_ROOM:
            raise Forbidden(f"a room has at most {HOOKS_PER_ROOM} webhooks")
        token = secrets.token_urlsafe(32)  # 256 bits
        doc = {"_id": secrets.token_urlsafe(9), "hash": hook_hash(token), "room": roomid, "by": user, "name": name}
        doc["created"] = now()
        self._db.hooks.insert_one(doc)
        return {**public_hook(doc), "token": token}

    def of_room(self, user: str, roomid: str) -> list[dict]:
        """The room's live hooks, oldest first (never their tokens); RoomGone, NotMember."""
        self._member_room(user, roomid)
        docs = sorted(self._db.hooks.find({"room": roomid}), key=lambda d: d["created"])
        return [public_hook(d) for d in docs if self._alive(d)]

    def revoke(self, user: str, roomid: str, hookid: str, admin: bool = False) -> None:
        """Its creator, the room's owner or an admin ends a hook; RoomGone, NotMember, NotFound, Forbidden."""
        room = require_room(self._db, roomid) if admin else self._member_room(user, roomid)
        doc = self._db.hooks.find_one({"_id": hookid, "room": roomid})
        if doc is None:
            raise NotFound(hookid)
        if user not in (doc["by"], room.get("owner")) and not admin:
            raise Forbidden("only its creator, the room's owner or an admin may revoke a webhook")
        self._db.hooks.delete_one({"_id": hookid})

    def by_token(self, token: str) -> dict | None:
        """The live hook a token opens: {id, room, name, user}; None for an unknown or dead one."""
        doc = self._db.hooks.find_one({"hash": hook_hash(token)})
        if doc is None or not self._alive(doc):
            return None
        return {"id": doc["_id"], "room": doc["room"], "name": doc["name"], "user": f"hook:{doc['_id']}"}
