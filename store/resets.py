"""Password-reset tokens: one per user (a new one supersedes the old), stored as a SHA-256, single use."""

import hashlib
import secrets
from datetime import timedelta

from pymongo import ReturnDocument

from store.db import now

RESET_LIFETIME = timedelta(minutes=30)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Resets:
    def __init__(self, db):
        self._db = db

    def issue(self, email: str) -> str | None:
        """A fresh token for a live account (superseding any earlier one), or None when there is none."""
        user = self._db.users.find_one({"_id": email}, {"deleted": 1, "deactivated": 1})
        if user is None or user.get("deleted") or user.get("deactivated"):
            return None
        token = secrets.token_urlsafe(32)  # 256 bits
        t = now()
        # One document per user: replacing its hash is what makes only the newest token valid.
        self._db.resets.find_one_and_update(
            {"_id": email},
            {"$set": {"hash": token_hash(token), "created": t, "expires": t + RESET_LIFETIME}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return token

    def redeem(self, token: str) -> str | None:
        """The email a live, unused, newest token was issued for (and the token is spent); else None."""
        doc = self._db.resets.find_one_and_delete({"hash": token_hash(token), "expires": {"$gt": now()}})
        return doc["_id"] if doc else None
