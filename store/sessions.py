"""Server-side sessions: the cookie holds a random token, the database only its SHA-256."""

import hashlib
import secrets
from datetime import timedelta

from store.db import atomic, now


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Sessions:
    def __init__(self, db, activity, days: int):
        self._db = db
        self._activity = activity
        self._lifetime = timedelta(days=days)

    def open(self, user: str) -> str:
        """Start a fresh session for a user who just proved who they are; return its token."""
        token = secrets.token_urlsafe(32)
        t = now()

        def work(session):
            self._db.sessions.insert_one(
                {"_id": _key(token), "u": user, "created": t, "expires": t + self._lifetime}, session=session
            )
            self._activity.record(user, "login", session=session, t=t)

        atomic(self._db, work)
        return token

    def user(self, token: str) -> str | None:
        """The user a token belongs to, or None for an unknown or expired one."""
        doc = self._db.sessions.find_one({"_id": _key(token)}, {"u": 1, "expires": 1})
        if doc and doc["expires"] > now():
            return doc["u"]
        return None

    def close(self, token: str) -> None:
        """Destroy the session (if any) so the token is useless from now on."""

        def work(session):
            doc = self._db.sessions.find_one_and_delete({"_id": _key(token)}, session=session)
            if doc:
                self._activity.record(doc["u"], "logout", session=session)

        atomic(self._db, work)
