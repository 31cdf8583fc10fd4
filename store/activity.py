"""The activity log: one entry per register, login, logout, room action, message and upload."""

from store.db import iso, next_value, now

ACTS = ("register", "login", "logout", "create", "enter", "leave", "delete", "message", "upload")


class Activity:
    def __init__(self, db, on_record=None):
        self._db = db
        self.on_record = on_record  # called after each entry (inside its transaction): the stats nudge

    def record(self, user: str, act: str, text: str = "", session=None, t=None) -> int:
        """Append an entry and return its id; pass the transaction's session so it commits with the action."""
        assert act in ACTS, act
        entry_id = next_value(self._db, "activity")
        self._db.activity.insert_one(
            {"_id": entry_id, "u": user, "act": act, "m": text, "t": t or now()}, session=session
        )
        if self.on_record is not None:
            self.on_record()
        return entry_id


def public_entry(doc: dict) -> dict:
    return {"id": doc["_id"], "m": doc["m"], "u": doc["u"], "t": iso(doc["t"]), "act": doc["act"]}
