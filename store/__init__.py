"""The data layer: plain dicts in, plain dicts out, domain errors; no bottle, no celery."""

import functools

import pymongo
import redis as redis_lib

from store import db as dbmod
from store.accounts import Accounts
from store.activity import Activity
from store.attention import Attention
from store.bus import Bus, MemoryBus, RedisBus
from store.export import Export
from store.fanout import CHECK_BEATS, Fanout
from store.feed import FEED, Feed
from store.hooks import Hooks
from store.invites import Invites
from store.limits import Limiter, MemoryLimiter, RedisLimiter
from store.messages import Messages, render_messages
from store.presence import MemoryPresence, Presence, RedisPresence
from store.push import Subscriptions
from store.resets import Resets
from store.rooms import Listing, MemberViews, Rooms
from store.search import Search
from store.sessions import SessionCache, Sessions
from store.stats import Stats
from store.streams import MemoryStreams, RedisStreams, StreamSlots
from store.timeline import Timeline
from store.uploads import MemoryUploads, RedisUploads, Uploads
from store.users import Users


def redis_client(url: str) -> redis_lib.Redis:
    """A client whose threads wait for a free connection: the default pool fails past 100 at once,
    and a web process runs over a thousand threads."""
    pool = redis_lib.BlockingConnectionPool.from_url(
        url, max_connections=100, timeout=5, socket_timeout=5, socket_connect_timeout=3
    )
    return redis_lib.Redis.from_pool(pool)


class Store:
    """Every collection family of one database, plus the shared Redis pieces."""

    def __init__(
        self,
        mongodb_uri: str,
        redis_url: str | None = None,
        session_days: int = 14,
        on_activity=None,
        on_message=None,
        heartbeat_seconds: float = 15.0,
    ):
        """`on_activity()` is called after each activity entry: the tasks layer's stats nudge;
        `on_message(roomid, id)` after each new message commits: the tasks layer's push nudge;
        `heartbeat_seconds`: the streams' heartbeat, which paces the fan-out's look for lost publishes
        (store/fanout.py) and the refresh of who is online (store/presence.py)."""
        self.client = dbmod.connect(mongodb_uri)
        self.db = dbmod.database(self.client)
        self.redis = redis_client(redis_url) if redis_url else None
        self.bus: Bus = RedisBus(self.redis) if self.redis else MemoryBus()
        self.limiter: Limiter = RedisLimiter(self.redis) if self.redis else MemoryLimiter()
        self.uploads: Uploads = RedisUploads(self.redis) if self.redis else MemoryUploads()
        self.fanout = Fanout(self.bus, heartbeat_seconds * CHECK_BEATS, self._positions)
        self.streams: StreamSlots = RedisStreams(self.redis) if self.redis else MemoryStreams()
        self.activity = Activity(self.db, on_activity)
        self.feed = Feed(self.db, self.bus)
        self.users = Users(self.db, self.activity, self.feed)
        self.session_cache = SessionCache(self.redis)
        self.sessions = Sessions(self.db, self.activity, session_days, self.session_cache)
        self.timeline = Timeline(self.db, functools.partial(render_messages, self.db))
        self.attention = Attention(self.db)
        self.search = Search(self.db)
        self.views = MemberViews(self.db)
        self.rooms = Rooms(
            self.db, self.activity, self.bus, self.timeline, self.attention, self.feed, self.views, self.users.names
        )
        self.listing = Listing(self.rooms)
        self.invites = Invites(self.db, self.rooms, self.timeline, self.bus, self.limiter, self.feed)
        self.presence: Presence = RedisPresence(self.redis, heartbeat_seconds) if self.redis else MemoryPresence()
        self.messages = Messages(
            self.db,
            self.activity,
            self.bus,
            self.limiter,
            self.timeline,
            self.attention,
            self.views,
            self.search,
            on_message,
        )
        self.push = Subscriptions(self.db)
        self.stats = Stats(self.db)
        self.resets = Resets(self.db)
        self.hooks = Hooks(self.db)
        self.export = Export(self.db, self.users, self.rooms, self.sessions)
        self.accounts = Accounts(self.db, self.users, self.rooms, self.messages, self.sessions, self.export)

    def _positions(self, keys: list[str]) -> dict[str, int]:
        """Where the fan-out's listened timelines stand in the database: rooms (those that exist) and the feed."""
        found = self.rooms.positions([key for key in keys if key != FEED])
        if FEED in keys:
            found[FEED] = self.feed.head()
        return found

    def ensure_indexes(self) -> None:
        dbmod.ensure_indexes(self.db)
        self.rooms.migrate()

    def deadline(self, seconds: float):
        """A block whose database calls, server selection included, give up after `seconds` in all."""
        return pymongo.timeout(seconds)

    def health(self) -> dict:
        """'ok' per dependency that answers; raises nothing, the caller decides the status."""
        report = {}
        try:
            self.client.admin.command("ping")
            report["mongo"] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means 'down'
            report["mongo"] = f"down: {type(exc).__name__}"
        if self.redis is None:
            report["redis"] = "off"
        else:
            try:
                self.redis.ping()
                report["redis"] = "ok"
            except Exception as exc:  # noqa: BLE001
                report["redis"] = f"down: {type(exc).__name__}"
        return report

    def close(self) -> None:
        self.fanout.close()
        self.bus.close()
        self.session_cache.close()
        if isinstance(self.presence, RedisPresence):
            self.presence.close()
        self.client.close()
        if self.redis is not None:
            self.redis.close()
