"""Leaving for good: an account's deletion, and an admin's deactivation."""

import secrets

from store.errors import StoreError
from store.messages import GHOST_PREFIX


class Accounts:
    def __init__(self, db, users, rooms, messages, sessions, export):
        self._db = db
        self._users = users
        self._rooms = rooms
        self._messages = messages
        self._sessions = sessions
        self._export = export

    def delete(self, user: str, erase: bool) -> dict:
        """End everything of the account; with `erase`, its messages become tombstones and their text
        leaves the activity log. {"rooms_left", "messages_erased"}."""
        self._sessions.end_others(user)
        rooms = self._export.rooms_ever(user)
        erased = self._erase_messages(user, rooms) if erase else 0
        if erase:
            self._db.activity.update_many({"u": user, "act": "message"}, {"$set": {"m": ""}})
        self._take_back_reactions(user, rooms)
        ghost = f"{GHOST_PREFIX}{secrets.token_hex(8)}"  # the kept messages' author from now on: not the email
        for roomid in rooms:
            self._messages.disown(user, roomid, ghost)
        left = 0
        for roomid in sorted(self._rooms.ids_of(user)):
            try:
                self._rooms.leave(user, roomid)  # the seed's rules: a last member's leave deletes the room
                left += 1
            except StoreError:
                pass  # gone or left meanwhile
        self._db.invites.delete_many({"user": user})
        self._db.invites.delete_many({"by": user})
        self._db.links.update_many({"by": user}, {"$set": {"revoked": True}})
        self._db.push_subscriptions.delete_many({"u": user})  # another area's collection: harmless if absent
        self._db.resets.delete_many({"_id": user})
        self._db.hooks.delete_many({"by": user})
        self._users.tombstone(user)
        self._sessions.end_others(user)  # a login that raced the deletion
        return {"rooms_left": left, "messages_erased": erased}

    def _erase_messages(self, user: str, rooms: list[str]) -> int:
        """Each own message that still has text becomes a tombstone, through the same delete as the route's
        (its event, the cache, unread counts and the activity text follow), read in bounded id ranges."""
        erased = 0
        for docs in self._export.own_messages(user, rooms, {"room": 1, "id": 1, "u": 1, "deleted": 1}):
            for doc in docs:
                if doc.get("deleted"):
                    continue
                try:
                    self._messages.delete(user, doc["room"], doc["id"], admin=True)
                    erased += 1
                except StoreError:
                    break  # the room went away meanwhile
        return erased

    def _take_back_reactions(self, user: str, rooms: list[str]) -> None:
        """Every reaction of the user is taken back, through the same change as the route's (an event, the
        cache): a reaction names its people by email, and the email may come back as someone else."""
        for docs in self._export.reacted(user, rooms):
            for doc in docs:
                for emoji in [r["e"] for r in doc["reactions"] if user in r["u"]]:
                    try:
                        self._messages.react(user, doc["room"], doc["id"], emoji, add=False, admin=True)
                    except StoreError:
                        break  # the room or the message went away meanwhile

    def deactivate(self, userid: str, deactivated: bool) -> None:
        """Deactivate (sessions end, login refused) or reactivate an account; NotFound."""
        self._users.set_deactivated(userid, deactivated)
        if deactivated:
            self._sessions.end_others(userid)
            self._db.resets.delete_many({"_id": userid})
