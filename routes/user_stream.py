"""GET /v1/events: the user's one stream — every event of every room they are in, the public room list,
the profiles of the people they share a room with, and their own notices — resumable from any id it sent.

A stream stands at a position per room and one in the feed (store/feed.py). Its event ids name a saved
checkpoint of those positions and what moved since (`<checkpoint>~<index>.<position>~f<feed>~r<room>.<position>`,
`x` for a room the stream no longer follows); a resume reconciles that with the user's rooms now: a room
left, removed or deleted meanwhile is one `gone`, a room joined meanwhile one `room`, and every other room
replays exactly what came after its position.
"""

import re

from bottle import request

from routes.common import current_user, fail, settings, store
from routes.sse import Clock, Position, frame, resume_id, start_sse, stream_slot, wait_seconds
from store.errors import NotMember, RoomGone
from store.feed import FEED, PROFILE_ROOMS, Checkpoint, user_key
from store.timeline import Event

MAX_CHANGES = 24  # positions an id names beside its checkpoint before the stream saves a new one
PART = re.compile(r"(?:f([0-9]{1,16})|([0-9]{1,5})\.([0-9]{1,16}|x)|r([A-Za-z0-9_-]{1,64})\.([0-9]{1,16}))")
CHECKPOINT = re.compile(r"[A-Za-z0-9_-]{12}")
PEOPLE_SENT = 1000  # co-members' profiles sent at the start, up to this many (beyond, the page asks per person)
LISTED_ROOMS = 100  # public rooms in the stream's first `rooms` (as GET /v1/room/:userid lists by default)
ENDS = ("leave", "removed")  # room events that end the user's membership when they are about the user


class Positions:
    """Where one user stream stands, and the id that names it."""

    def __init__(self, feed, user: str, rooms: dict[str, int], at_feed: int, timeline, saved: Checkpoint | None):
        """At `rooms` and `at_feed`; ids name `saved` (the checkpoint a resume came from) while it is young."""
        self._feed = feed
        self._user = user
        self._timeline = timeline
        self.rooms = {roomid: Position(timeline, roomid, sent) for roomid, sent in rooms.items()}
        self.feed = Position(feed, FEED, at_feed)
        if saved is not None and saved.reusable():
            self._name(saved.id, saved.rooms, saved.feed)
        else:
            self.save()

    def save(self) -> None:
        """A new checkpoint at the positions now: later ids name only what moves from here."""
        base = {roomid: position.sent for roomid, position in self.rooms.items()}
        self._name(self._feed.save_checkpoint(self._user, base, self.feed.sent), base, self.feed.sent)

    def _name(self, checkpoint: str, base: dict[str, int], base_feed: int) -> None:
        self.checkpoint = checkpoint
        self._base = base
        self._base_feed = base_feed
        self._order = sorted(base)

    def follow(self, roomid: str, sent: int) -> None:
        self.rooms[roomid] = Position(self._timeline, roomid, sent)

    def token(self, key: str | None = None, at: int | None = None) -> str:
        """The id after the event at position `at` of `key` (everything else as sent so far)."""
        parts = self._changes(key, at)
        if len(parts) > MAX_CHANGES:
            self.save()
            parts = self._changes(key, at)
        return "~".join([self.checkpoint, *parts])

    def _changes(self, key: str | None, at: int | None) -> list[str]:
        def sent(roomid):
            if roomid == key:
                return at
            position = self.rooms.get(roomid)
            return position.sent if position else None

        feed = at if key == FEED else self.feed.sent
        parts = [f"f{feed}"] if feed != self._base_feed else []
        for i, roomid in enumerate(self._order):
            now = sent(roomid)
            if now != self._base[roomid]:
                parts.append(f"{i}.{'x' if now is None else now}")
        return parts + [f"r{roomid}.{sent(roomid)}" for roomid in self.rooms if roomid not in self._base]


def parse(feed, user: str, raw: str) -> tuple[dict[str, int], int, Checkpoint] | None:
    """(room positions, feed position, the checkpoint) an id names; None when its checkpoint is unknown or
    expired; 400 when it is not an id of this stream."""
    head, *parts = raw.strip().split("~")
    matches = [PART.fullmatch(part) for part in parts]
    if not CHECKPOINT.fullmatch(head) or not all(matches) or len(parts) > MAX_CHANGES + 2:
        fail(400, "Last-Event-ID and after must be an event id this stream sent")
    saved = feed.checkpoint(user, head)
    if saved is None:
        return None
    order = sorted(saved.rooms)
    rooms, at_feed = dict(saved.rooms), saved.feed
    for match in matches:
        at, index, position, roomid, joined = match.groups()
        if at is not None:
            at_feed = int(at)
        elif roomid is not None:
            rooms[roomid] = int(joined)
        elif int(index) < len(order):
            if position == "x":
                rooms.pop(order[int(index)], None)
            else:
                rooms[order[int(index)]] = int(position)
    return rooms, at_feed, saved


def stream_user_events():
    """GET /v1/events: the user's stream, resumable with Last-Event-ID or ?after=; 400, 401, 429, 503."""
    user = current_user()
    raw = resume_id()
    gone = request.environ.get("waitress.client_disconnected", lambda: False)
    return UserStream(store(), user).run(settings(), raw, gone)


class UserStream:
    def __init__(self, store, user: str):
        self._store = store
        self._user = user
        self._listener = None
        self.at: Positions | None = None

    def run(self, settings, raw: str | None, gone):
        store, user = self._store, self._user
        # An empty id is malformed (400), as on a room's stream: never a silent fresh start.
        resumed = parse(store.feed, user, raw) if raw is not None else None
        # Listen to the feed and the user's notices before reading anything: what commits after is on its way.
        with stream_slot(store, settings, user, FEED, user_key(user)) as listener:
            self._listener = listener
            yield from self.start(raw, resumed)
            clock = Clock(settings, gone)
            while clock.running():
                missed, events = listener.wait(wait_seconds(store.fanout.count()))
                if clock.check_due() or missed:
                    yield from self.sync(announce=True)
                for key, event in events:
                    yield from self.heard(key, event)
                yield clock.beat()

    def start(self, raw: str | None, resumed: tuple | None):
        """The start's frames: where it stands, what a resume missed, and the state a page shows. (What it reads
        for them lives only as long as this: a process holds thousands of streams.)"""
        store, user, listener = self._store, self._user, self._listener
        # A resume listens to the rooms it stood in before reading them: they replay up to what the read
        # finds, then go live. A fresh start (or a room joined while away) cannot: see below.
        for roomid in resumed[0] if resumed else ():
            listener.add(roomid)
        # One read of the user's rooms: where each stands, who is in them, and what the `rooms` frame lists.
        now_in, people, docs = store.rooms.following(user)
        if resumed is None:
            rooms, at_feed, saved = now_in, store.feed.head(), None
            for roomid in rooms:
                listener.add(roomid)
        else:
            rooms, at_feed, saved = resumed
        self.at = Positions(store.feed, user, rooms, at_feed, store.timeline, saved)
        yield start_sse(self.at.token())
        if raw is not None and resumed is None:
            yield frame("reset", {})  # too old to resume: the client reloads what it shows
        if resumed is not None:  # rooms joined while away: each listened to, then read (join)
            yield from self.sync(announce=True, rooms=now_in)
        # What a page shows and a replay does not carry: the people it shares rooms with, the room lists with
        # their counts (as of the positions the stream stands at now), the invitations. Sent at every start,
        # so opening the page needs no other request.
        if len(people) <= PEOPLE_SENT:
            yield frame("people", {"people": list(store.users.profiles(people).values())})
        listed = [doc for doc in docs if doc["_id"] in self.at.rooms]  # less any a resume found gone
        rooms = store.rooms.joined(user, docs=listed)
        yield frame("rooms", {"rooms": rooms, "allrooms": store.listing.at(self.at.feed.sent, LISTED_ROOMS)})
        yield frame("invitations", {"invitations": store.invites.pending(user)})
        if resumed is None:  # what came between the read and listening to its rooms (the feed was heard)
            yield from self.sync(announce=True, feed=False)

    def sync(self, announce: bool, rooms: dict[str, int] | None = None, feed: bool = True):
        """Reconcile with the database (or with `rooms`, the user's rooms and their positions read after the
        stream listened to them): rooms gone or joined unheard, each room's and (unless the stream read the
        feed's head after listening to it) the feed's missed events."""
        store, at = self._store, self.at
        rooms = store.rooms.positions_of(self._user) if rooms is None else rooms
        for roomid in [roomid for roomid in at.rooms if roomid not in rooms]:
            self.unfollow(roomid)
            yield frame("gone", {"roomid": roomid}, at.token())
        for roomid, newest in rooms.items():
            if roomid not in at.rooms:
                yield from self.join(roomid, announce)
            else:
                self._listener.stands(roomid, newest)  # read after listening: the check counts from here
                yield from self.send(roomid, at.rooms[roomid].pages(newest))
        if feed:
            yield from self.send(FEED, at.feed.pages(store.feed.head()))

    def join(self, roomid: str, announce: bool, since: int | None = None):
        """Follow a room the user came into: listen first, then read where it stands; from `since` (just
        before their entering, when the notice says) the room's events replay, so a page that opened the
        room at once misses nothing."""
        self._listener.add(roomid)
        try:
            newest = self._store.rooms.position_for(self._user, roomid)
            if newest:
                self._listener.stands(roomid, newest[1])
        except (RoomGone, NotMember):
            newest = None
        found = self._store.rooms.joined(self._user, roomid) if newest else []
        if not found:  # out again already
            self._listener.discard(roomid)
            return
        self.at.follow(roomid, newest[1] if since is None else min(since, newest[1]))
        if announce:
            yield frame("room", found[0], self.at.token())
        yield from self.send(roomid, self.at.rooms[roomid].pages(newest[1]))

    def unfollow(self, roomid: str) -> None:
        self._listener.discard(roomid)
        self.at.rooms.pop(roomid, None)

    def heard(self, key: str, event: Event):
        """Frames for one event from the bus."""
        at = self.at
        if key == user_key(self._user):
            if event.kind == "joined" and event.data["roomid"] not in at.rooms:
                yield from self.join(event.data["roomid"], announce=True, since=event.data.get("ev"))
            elif event.kind != "joined":
                yield frame(event.kind, event.data)
        elif key == FEED:
            yield from self.send(FEED, at.feed.live(event))
        elif key in at.rooms:
            yield from self.send(key, at.rooms[key].live(event))

    def send(self, key: str, pages):
        """Frames for pages of a room's or the feed's events, each with the id that resumes after it."""
        for page in pages:
            out = []
            for event in page:
                if key == FEED:
                    data = event.data
                    if event.kind == "profile":  # of the user, or of someone in one of the user's rooms then
                        data = {k: v for k, v in data.items() if k != PROFILE_ROOMS}
                        shared = any(roomid in self.at.rooms for roomid in event.data.get(PROFILE_ROOMS, ()))
                        if not shared and data.get("userid") != self._user:
                            continue
                    out.append(frame(event.kind, data, self.at.token(FEED, event.position)))
                    continue
                data = {**event.data, "roomid": key}
                ends = event.kind == "deleted" or (event.kind in ENDS and event.data.get("u") == self._user)
                if ends:  # the room leaves the stream: its id says so, and a resume does not tell it again
                    self.unfollow(key)
                    out.append(frame(event.kind, data, self.at.token()))
                    yield "".join(out)
                    return
                token = self.at.token(key, event.position) if event.position is not None else None
                out.append(frame(event.kind, data, token))
            if out:
                yield "".join(out)


def register(app) -> None:
    app.get("/v1/events", callback=stream_user_events)
