"""The Celery app, built from Settings: a Redis broker when REDIS_URL is set, eager in-process otherwise."""

import threading

from celery import Celery

from settings import Settings
from store import Store
from store.media import ImageStore
from store.push import vapid_key
from tasks.images import build_image_store


class ChatCelery(Celery):
    """A Celery app that knows the service's settings; a worker opens its stores lazily (after any fork)."""

    chat_settings: Settings
    nudge_stats = None  # set by tasks.stats: asks for an aggregation soon; the store calls it after activity
    nudge_push = None  # set by tasks.push: (roomid, id) after a new message; sends its Web Push notifications
    _chat_store: Store | None = None
    _chat_images: ImageStore | None = None
    _chat_vapid: str | None = None
    _lock = threading.Lock()

    @property
    def chat_store(self) -> Store:
        with self._lock:
            if self._chat_store is None:
                cfg = self.chat_settings
                self._chat_store = Store(
                    cfg.mongodb_uri,
                    cfg.redis_url,
                    cfg.session_days,
                    on_activity=self.nudge_stats,
                    on_message=self.nudge_push,
                )
            return self._chat_store

    @property
    def chat_vapid(self) -> str:
        """The VAPID private key (base64url of its 32 bytes): VAPID_PRIVATE_KEY, else DATA_DIR/vapid.pem."""
        with self._lock:
            if self._chat_vapid is None:
                self._chat_vapid = vapid_key(self.chat_settings.vapid_private_key, self.chat_settings.data_dir)
            return self._chat_vapid

    @property
    def chat_images(self) -> ImageStore:
        with self._lock:
            if self._chat_images is None:
                self._chat_images = build_image_store(self.chat_settings)
            return self._chat_images

    def use(self, store: Store, images: ImageStore) -> None:
        """Share the web process's own store and image store (the embedded default runs tasks in-process)."""
        self._chat_store, self._chat_images = store, images


def make_celery(settings: Settings) -> ChatCelery:
    """Build the Celery app and register its tasks."""
    from tasks import images, mail, push, stats  # task modules register themselves on the app

    app = ChatCelery("chat")
    app.chat_settings = settings
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        result_expires=3600,
        task_track_started=False,
    )
    if settings.redis_url:
        timeout = settings.broker_visibility_timeout
        app.conf.update(
            broker_url=settings.redis_url,
            result_backend=settings.redis_url,
            broker_transport_options={
                # A task whose worker died unacknowledged goes back on the queue `timeout` s after delivery;
                # every worker sweeps for such tasks (kombu's default sweep is only every ~100 s).
                "visibility_timeout": timeout,
                "unacked_restore_interval": max(1, min(10, timeout // 2)),
                "unacked_restore_throttle": 1,
                # Never hang on a dead broker connection.
                "socket_timeout": 10,
                "socket_connect_timeout": 5,
            },
        )
    else:
        # Eager tasks still take a producer from the pool, which opens a connection to the broker: the
        # in-memory transport wants a host name there ("memory://" alone makes kombu warn that it has none).
        app.conf.update(
            task_always_eager=True,
            task_eager_propagates=True,
            broker_url="memory://localhost/",
            result_backend="cache+memory://",
        )
    images.register(app)
    mail.register(app)
    stats.register(app)
    push.register(app)
    return app
