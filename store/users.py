"""Accounts: users stored with a slow salted scrypt hash, never the password."""

import base64
import hashlib
import hmac
import secrets

import pymongo
from pymongo import ReturnDocument

from store.db import atomic, now
from store.errors import Conflict, Forbidden, NotFound
from store.feed import PROFILE_ROOMS

SCRYPT = {"n": 2**14, "r": 8, "p": 1}
IN_BATCH = 50  # ids per `$in` query


def hash_password(password: str, salt: bytes | None = None, n=SCRYPT["n"], r=SCRYPT["r"], p=SCRYPT["p"]) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=64 * 1024 * 1024)
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return f"scrypt${n}${r}${p}${b64(salt)}${b64(digest)}"


def check_password(password: str, stored: str) -> bool:
    _, n, r, p, salt, digest = stored.split("$")
    again = hash_password(password, base64.b64decode(salt), int(n), int(r), int(p))
    return hmac.compare_digest(again.rsplit("$", 1)[1], digest)


# Checked against when the user is unknown, so both failures cost the same time.
_DECOY = hash_password(secrets.token_urlsafe(16))


class Users:
    def __init__(self, db, activity, feed):
        self._db = db
        self._activity = activity
        self._feed = feed  # a profile change is a feed entry: the people who share a room with the user hear of it

    def register(self, email: str, password: str) -> None:
        """Create the account; Conflict if the email is taken. A deleted account's email starts a new person."""
        hashed = hash_password(password)
        t = now()

        def work(session):
            fresh = {"_id": email, "hash": hashed, "created": t}
            # Over a deleted account's tombstone: the same id, a new person (`since` tells their messages apart).
            reborn = self._db.users.find_one_and_replace(
                {"_id": email, "deleted": True}, {**fresh, "since": t}, session=session
            )
            if reborn is None:
                self._db.users.insert_one(fresh, session=session)
            self._activity.record(email, "register", session=session, t=t)

        try:
            atomic(self._db, work)
        except pymongo.errors.DuplicateKeyError:
            raise Conflict(email) from None

    def authenticate(self, email: str, password: str) -> None:
        """Return quietly when the password is right; NotFound for a wrong one or an unknown (or deleted) user,
        Forbidden for the right password of a deactivated account."""
        user = self._db.users.find_one({"_id": email}, {"hash": 1, "deactivated": 1})
        stored = user.get("hash") if user else None
        if not check_password(password, stored or _DECOY) or not stored:
            raise NotFound(email)
        if user.get("deactivated"):
            raise Forbidden(email)

    def tombstone(self, email: str) -> None:
        """What stays of a deleted account: its id (messages kept name it) and `deleted`; no hash, no profile."""
        self._db.users.update_one(
            {"_id": email},
            {"$set": {"deleted": True, "deleted_at": now()}, "$unset": {"hash": "", "name": "", "avatar": ""}},
        )

    def set_deactivated(self, email: str, deactivated: bool) -> None:
        """Deactivate (or reactivate) a live account; NotFound for an unknown or deleted one."""
        found = self._db.users.update_one(
            {"_id": email, "deleted": {"$ne": True}}, {"$set": {"deactivated": deactivated}}
        ).matched_count
        if not found:
            raise NotFound(email)

    def set_password(self, email: str, password: str) -> None:
        """Replace the password hash; NotFound for an unknown user."""
        if self._db.users.update_one({"_id": email}, {"$set": {"hash": hash_password(password)}}).matched_count != 1:
            raise NotFound(email)

    def profiles(self, userids) -> dict[str, dict]:
        """{userid: {userid, name, avatar}} of the known ones among `userids`: a query per IN_BATCH of them
        (SecantusDB's `$in` costs more per id as the list grows: 50 ids 4.6 ms, 690 ids 850 ms)."""
        wanted, found = list(userids), {}
        for start in range(0, len(wanted), IN_BATCH):
            batch = wanted[start : start + IN_BATCH]
            for doc in self._db.users.find({"_id": {"$in": batch}}, {"name": 1, "avatar": 1, "deleted": 1}):
                found[doc["_id"]] = public_profile(doc)
        return found

    def profile(self, userid: str) -> dict:
        """The public profile; NotFound for an unknown user."""
        found = self.profiles([userid])
        if userid not in found:
            raise NotFound(userid)
        return found[userid]

    def names(self, userids) -> dict[str, str]:
        return {userid: p["name"] for userid, p in self.profiles(userids).items()}

    def update_profile(self, userid: str, changes: dict) -> dict:
        """Set `name` and/or `avatar` (None clears the avatar); return the profile. NotFound."""
        if not changes:
            doc = self._db.users.find_one({"_id": userid}, {"name": 1, "avatar": 1})
            if doc is None:
                raise NotFound(userid)
            return public_profile(doc)

        def work(session):
            doc = self._db.users.find_one_and_update(
                {"_id": userid},
                {"$set": changes},
                projection={"name": 1, "avatar": 1},
                return_document=ReturnDocument.AFTER,
                session=session,
            )
            if doc is None:
                raise NotFound(userid)
            rooms = [room["_id"] for room in self._db.rooms.find({"members": userid}, {"_id": 1}, session=session)]
            return public_profile(doc), self._feed.record(
                session, "profile", {**public_profile(doc), PROFILE_ROOMS: rooms}
            )

        profile, event = atomic(self._db, work)
        self._feed.publish(event)
        return profile


def default_name(userid: str) -> str:
    """The part of the email before the @."""
    return userid.split("@", 1)[0]


DELETED_NAME = "deleted user"


def public_profile(doc: dict) -> dict:
    if doc.get("deleted"):
        return {"userid": doc["_id"], "name": DELETED_NAME, "avatar": None, "deleted": True}
    return {"userid": doc["_id"], "name": doc.get("name") or default_name(doc["_id"]), "avatar": doc.get("avatar")}
