"""The MongoDB connection, the index declarations and the transaction helper."""

import functools
from datetime import UTC, datetime

import pymongo
from pymongo import ASCENDING as ASC
from pymongo import DESCENDING as DESC
from pymongo import ReturnDocument

# Every index the service needs, as data: collection -> [(keys, options)].
INDEXES = {
    "users": [],
    "sessions": [([("expires", ASC)], {"expireAfterSeconds": 0}), ([("u", ASC)], {})],
    # SecantusDB answers an `_id` range only from a secondary index (the `_id_` index is used for equality).
    "activity": [([("u", ASC), ("_id", ASC)], {}), ([("_id", DESC)], {})],
    "rooms": [
        ([("members", ASC)], {}),
        # The one direct message room of a pair of users.
        ([("pairkey", ASC)], {"unique": True, "partialFilterExpression": {"pairkey": {"$type": "string"}}}),
    ],
    "invites": [([("user", ASC), ("t", ASC)], {}), ([("room", ASC)], {})],
    "links": [([("room", ASC)], {})],
    "messages": [
        ([("room", ASC), ("id", ASC)], {"unique": True}),
        ([("room", ASC), ("ev", ASC)], {}),
        ([("room", ASC), ("c", ASC)], {}),
        # Search (store/search.py): a message's terms `k` are an array, so (k, act) is a multikey index.
        ([("k", ASC), ("act", ASC)], {}),
        (
            [("room", ASC), ("u", ASC), ("cid", ASC)],
            {"unique": True, "partialFilterExpression": {"cid": {"$type": "string"}}},
        ),
    ],
    "words": [([("w", ASC)], {"unique": True})],
    "events": [([("room", ASC), ("ev", ASC)], {"unique": True})],
    "reads": [([("u", ASC)], {}), ([("room", ASC)], {})],
    # One document per (message, mentioned user): SecantusDB answers ranges of scalar indexes, not of arrays.
    "mentions": [([("u", ASC), ("t", ASC)], {}), ([("room", ASC), ("id", ASC)], {})],
    "counters": [],
    # A room's counters, apart from its document (store/timeline.py), so a post rewrites two index entries, not
    # one per member. allrooms reads public rooms only: private rooms and DMs never enter its cost.
    "timelines": [([("visibility", ASC), ("active", ASC)], {})],
    # The user streams' feed (store/feed.py): read by number ranges; entries and checkpoints expire.
    "feed": [([("n", ASC)], {"unique": True}), ([("expires", ASC)], {"expireAfterSeconds": 0})],
    "checkpoints": [([("expires", ASC)], {"expireAfterSeconds": 0})],
    # Web Push subscriptions: _id is the endpoint's SHA-256; a user's are listed by `u`.
    "push": [([("u", ASC)], {})],
    "stats": [],
    "limits": [([("expires", ASC)], {"expireAfterSeconds": 0})],
    "hooks": [([("hash", ASC)], {"unique": True}), ([("room", ASC)], {}), ([("by", ASC)], {})],
    "resets": [([("hash", ASC)], {}), ([("expires", ASC)], {"expireAfterSeconds": 0})],
}


# A message's search terms and positions (store/search.py), which only a search reads.
WITHOUT_TERMS = {"k": 0, "p": 0}

# An acknowledged write is on disk: in the journal of a majority of the replica set. Transactions
# inherit it (their commitTransaction carries it), and so does every write outside one.
DURABLE_WRITES = {"w": "majority", "journal": True}


def connect(uri: str, **options) -> pymongo.MongoClient:
    """One client per process; fail fast when the server is away instead of hanging requests."""
    options = {
        **DURABLE_WRITES,
        "serverSelectionTimeoutMS": 3000,
        "connectTimeoutMS": 3000,
        "socketTimeoutMS": 10000,
        "maxPoolSize": 200,
        "tz_aware": True,
        **options,
    }
    return pymongo.MongoClient(uri, **options)


def database(client: pymongo.MongoClient):
    """The database named in the URI, `chat` when it names none."""
    return client.get_default_database("chat")


def ensure_indexes(db) -> None:
    """Create every declared index; cheap and idempotent, so run at every start."""
    for name, indexes in INDEXES.items():
        for keys, options in indexes:
            db[name].create_index(keys, **options)


def now() -> datetime:
    """The current time, rounded to milliseconds as the API shows it."""
    t = datetime.now(UTC)
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


@functools.lru_cache(maxsize=65536)  # a page shows 100 messages' times per read: strftime was a fifth of its CPU
def iso(t: datetime) -> str:
    """`2026-11-24T09:30:00.123Z`"""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def next_value(db, name: str, step: int = 1) -> int:
    """Atomically take the next value of a named counter (outside any transaction, so it never conflicts)."""
    doc = db.counters.find_one_and_update(
        {"_id": name}, {"$inc": {"n": step}}, upsert=True, return_document=ReturnDocument.AFTER
    )
    return doc["n"]


def atomic(db, work):
    """Run work(session) in one transaction, retried on transient conflicts; return its result."""

    def attempt(session):
        try:
            return work(session)
        except pymongo.errors.ServerSelectionTimeoutError as exc:
            # No server for serverSelectionTimeoutMS: the database is away. Fail now (the route answers 500,
            # the client retries) instead of with_transaction's retrying for up to two minutes.
            exc._remove_error_label("TransientTransactionError")
            raise

    with db.client.start_session() as session:
        return session.with_transaction(attempt)
