"""The activity log: one entry per register, login, logout, room action, message and upload."""

from store.db import iso, next_value, now

ACTS = ("register", "login", "logout", "create", "enter", "leave", "delete", "message", "upload")


class Activity:
    def __init__(self, db, on_record=None):
        self._db = db
        self.on_record = on_record  # the stats nudge: after each entry (in its transaction, or after with nudge=False)

    def next_id(self) -> int:
        """An entry id taken ahead, for record(entry_id=): a counter, outside any transaction."""
        return next_value(self._db, "activity")

    def record(
        self, user: str, act: str, text: str = "", session=None, t=None, nudge: bool = True, entry_id: int | None = None
    ) -> int:
        """Append an entry and return its id; pass the transaction's session so it commits with the action.
        `nudge=False`: the caller calls nudge() itself (after its commit, outside any lock it holds)."""
        assert act in ACTS, act
        entry_id = entry_id or self.next_id()
        self._db.activity.insert_one(
            {"_id": entry_id, "u": user, "act": act, "m": text, "t": t or now()}, session=session
        )
        if nudge:
            self.nudge()
        return entry_id

    def nudge(self) -> None:
        """Tell the stats that activity happened."""
        if self.on_record is not None:
            self.on_record()


def public_entry(doc: dict) -> dict:
    return {"id": doc["_id"], "m": doc["m"], "u": doc["u"], "t": iso(doc["t"]), "act": doc["act"]}
