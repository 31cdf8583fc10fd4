"""Stats: a snapshot of activity counts folded in incrementally, and bounded pages of the activity log."""

from datetime import timedelta

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from store.db import iso, now

SNAPSHOT = "snapshot"
EMPTY = {"version": 0, "mark": 0, "missing": [], "counts": {}, "days": {}}
CHUNK = 5000  # activity ids folded per commit, so a long backlog makes progress and memory stays flat
# An id still invisible this long after a run first missed it belongs to an aborted transaction:
# each transaction attempt takes a fresh id, and pymongo stops retrying after 120 s.
GAP_SECONDS = 120
MAX_MISSING = 1000  # bounds the snapshot document whatever happens to the counter
DAYS = 14
MAX_WINDOWS = 24  # page(): id windows read per request at most
MAX_WINDOW = 16384  # page(): the widest window, so one query reads at most this many entries


class Stats:
    def __init__(self, db):
        self._db = db

    def snapshot(self) -> dict | None:
        return self._db.stats.find_one({"_id": SNAPSHOT})

    def last_id(self) -> int:
        """The highest activity id allocated so far (its entry may not be visible yet)."""
        doc = self._db.counters.find_one({"_id": "activity"})
        return doc["n"] if doc else 0

    def aggregate(self, gap_seconds: float = GAP_SECONDS) -> dict | None:
        """Fold activity newer than the snapshot into it; the new snapshot, or None if a concurrent run got ahead."""
        last = self.last_id()
        snapshot = self.snapshot() or EMPTY
        first = True
        while True:
            state = self._fold(snapshot, last, gap_seconds, recheck=first)
            snapshot = self._commit(snapshot, state, new_run=first)
            if snapshot is None or snapshot["mark"] >= last:
                return snapshot
            first = False

    def _fold(self, snapshot: dict, last: int, gap_seconds: float, recheck: bool) -> dict:
        """The state after the next CHUNK ids past the mark (and, when asked, the ids it still waits for)."""
        t = now()
        missing = {entry_id: seen for entry_id, seen in snapshot["missing"]}
        entries = self._entries(sorted(missing)) if recheck else []
        low, high = snapshot["mark"], min(last, snapshot["mark"] + CHUNK)
        fresh = list(self._db.activity.find({"_id": {"$gt": low, "$lte": high}}, {"act": 1, "t": 1}))
        # Ids not visible yet: in flight (committing out of order) or aborted; looked for again next run.
        missing.update(dict.fromkeys(set(range(low + 1, high + 1)) - {e["_id"] for e in fresh}, t))
        counts, days = dict(snapshot["counts"]), dict(snapshot["days"])
        for entry in entries + fresh:
            missing.pop(entry["_id"], None)
            counts[entry["act"]] = counts.get(entry["act"], 0) + 1
            if entry["act"] == "message":
                day = entry["t"].strftime("%Y-%m-%d")
                days[day] = days.get(day, 0) + 1
        first_day = (t - timedelta(days=DAYS - 1)).strftime("%Y-%m-%d")
        waiting = sorted([i, seen] for i, seen in missing.items() if (t - seen).total_seconds() < gap_seconds)
        return {
            "mark": high,
            "missing": waiting[-MAX_MISSING:],
            "counts": counts,
            "days": {day: n for day, n in days.items() if day >= first_day},
        }

    def _entries(self, ids: list[int]) -> list[dict]:
        """Entries by id, 100 at a time: SecantusDB's `$in` cost grows with the square of the list."""
        return [
            entry
            for i in range(0, len(ids), 100)
            for entry in self._db.activity.find({"_id": {"$in": ids[i : i + 100]}}, {"act": 1, "t": 1})
        ]

    def _commit(self, read: dict, state: dict, new_run: bool) -> dict | None:
        """Write the state only if nobody wrote since `read` was read; None when somebody did."""
        try:
            return self._db.stats.find_one_and_update(
                {"_id": SNAPSHOT, "version": read["version"]},
                {"$set": {**state, "updated": now()}, "$inc": {"version": 1, "runs": int(new_run)}},
                upsert=read["version"] == 0,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:  # another run created the snapshot first
            return None

    def page(self, user: str | None, limit: int, before: int | None = None) -> tuple[list[dict], int | None]:
        """Up to `limit` entries below id `before`, newest first, only `user`'s unless None; and the next `before`."""
        high = self.last_id() if before is None else min(before - 1, self.last_id())
        query = {} if user is None else {"u": user}
        top, found, window, windows = high, [], limit, 0
        # Windows of ids downward from the top, each a bounded range on an index (never a sort), at least
        # doubling, or wide enough for the rest of the page at the density seen so far (sparse users).
        while len(found) < limit and high > 0 and windows < MAX_WINDOWS:
            low = max(0, high - window)
            batch = self._db.activity.find({**query, "_id": {"$gt": low, "$lte": high}})
            found += sorted(batch, key=lambda entry: entry["_id"], reverse=True)
            high, windows = low, windows + 1
            window = min(MAX_WINDOW, max(2 * window, (limit - len(found)) * (top - high) // max(len(found), 1)))
        if len(found) > limit:
            return found[:limit], found[limit - 1]["_id"]
        return found, (high + 1 if high > 0 else None)


def public_counts(snapshot: dict | None) -> dict:
    """The snapshot as the API shows it: zeros and `updated: null` before the first run."""
    counts, days = (snapshot["counts"], snapshot["days"]) if snapshot else ({}, {})
    today = now()
    recent = [(today - timedelta(days=back)).strftime("%Y-%m-%d") for back in range(DAYS - 1, -1, -1)]
    return {
        "room": counts.get("create", 0),
        "user": counts.get("register", 0),
        "messages": counts.get("message", 0),
        "rooms_open": counts.get("create", 0) - counts.get("delete", 0),
        "uploads": counts.get("upload", 0),
        "messages_per_day": [{"day": day, "messages": days.get(day, 0)} for day in recent],
        "updated": iso(snapshot["updated"]) if snapshot else None,
    }
