"""Server-side sessions: the cookie holds a random token, the database only its SHA-256.

Each session also has a public id (`sid`, random, unrelated to the token) by which its owner can list
and end it. `last_seen` is written at most once a minute per session: one conditional update.
"""

import hashlib
import secrets
from datetime import timedelta

from store.db import atomic, iso, now

SEEN_EVERY = timedelta(seconds=60)
AGENT_MAX = 256
PUBLIC = {"sid": 1, "created": 1, "last_seen": 1, "address": 1, "agent": 1}


def session_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def public_session(doc: dict, current_key: str | None) -> dict:
    return {
        "id": doc["sid"],
        "created": iso(doc["created"]),
        "last_seen": iso(doc.get("last_seen") or doc["created"]),
        "address": doc.get("address", ""),
        "agent": doc.get("agent", ""),
        "current": doc["_id"] == current_key,
    }


class Sessions:
    def __init__(self, db, activity, days: int):
        self._db = db
        self._activity = activity
        self._lifetime = timedelta(days=days)

    def open(self, user: str, address: str = "", agent: str = "") -> str:
        """Start a fresh session for a user who just proved who they are; return its token."""
        token = secrets.token_urlsafe(32)
        t = now()
        doc = {
            "_id": session_key(token),
            "sid": secrets.token_urlsafe(12),
            "u": user,
            "created": t,
            "last_seen": t,
            "expires": t + self._lifetime,
            "address": address[:64],
            "agent": agent[:AGENT_MAX],
        }

        def work(session):
            self._db.sessions.insert_one(doc, session=session)
            self._activity.record(user, "login", session=session, t=t)

        atomic(self._db, work)
        return token

    def user(self, token: str) -> str | None:
        """The user a token belongs to, or None for an unknown or expired one."""
        doc = self.lookup(token)
        return doc["u"] if doc else None

    def lookup(self, token: str) -> dict | None:
        """The live session {_id, u} of a token, or None; notes `last_seen` when over a minute old."""
        doc = self._db.sessions.find_one({"_id": session_key(token)}, {"u": 1, "expires": 1, "last_seen": 1})
        t = now()
        if not doc or doc["expires"] <= t:
            return None
        if doc.get("last_seen") is None or doc["last_seen"] < t - SEEN_EVERY:
            # Conditional: of several processes seeing it at once, at most one writes.
            self._db.sessions.update_one(
                {"_id": doc["_id"], "$or": [{"last_seen": {"$lt": t - SEEN_EVERY}}, {"last_seen": None}]},
                {"$set": {"last_seen": t}},
            )
        return {"_id": doc["_id"], "u": doc["u"]}

    def close(self, token: str) -> None:
        """Destroy the session (if any) so the token is useless from now on."""

        def work(session):
            doc = self._db.sessions.find_one_and_delete({"_id": session_key(token)}, session=session)
            if doc:
                self._activity.record(doc["u"], "logout", session=session)

        atomic(self._db, work)

    def of(self, user: str, current_key: str | None = None) -> list[dict]:
        """The user's live sessions, oldest first; sessions from before public ids get one now."""
        t = now()
        docs = list(self._db.sessions.find({"u": user, "expires": {"$gt": t}}, PUBLIC))
        for doc in docs:
            if "sid" not in doc:
                doc["sid"] = secrets.token_urlsafe(12)
                found = self._db.sessions.find_one_and_update(
                    {"_id": doc["_id"], "sid": None}, {"$set": {"sid": doc["sid"]}}
                )
                if found is None:  # another process named it first
                    doc["sid"] = self._db.sessions.find_one({"_id": doc["_id"]}, {"sid": 1})["sid"]
        docs.sort(key=lambda d: d["created"])
        return [public_session(d, current_key) for d in docs]

    def end(self, user: str, sid: str) -> bool:
        """End one of the user's sessions by its public id; False when they have no such session."""
        return self._db.sessions.delete_one({"u": user, "sid": sid}).deleted_count == 1

    def end_others(self, user: str, keep_key: str | None = None) -> int:
        """End every session of the user but `keep_key` (all of them when None); how many ended."""
        query = {"u": user} if keep_key is None else {"u": user, "_id": {"$ne": keep_key}}
        return self._db.sessions.delete_many(query).deleted_count
