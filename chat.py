"""chat: create_app() builds the service; `python chat.py` serves it, `python chat.py release` prepares the database."""

import errno
import logging
import resource
import signal
import sys

import pymongo
from bottle import Bottle, request

import webloop
from routes import register_all
from routes.common import guard_request, no_store
from settings import Settings, from_env
from store import Store
from store.embedded import EmbeddedDatabaseError, start_embedded
from tasks import make_celery
from tasks.images import build_image_store


def create_app(settings: Settings | None = None) -> Bottle:
    """Build the whole service from settings (the environment's when none are given)."""
    settings = settings or from_env()
    uri = settings.mongodb_uri or start_embedded(settings.data_dir)
    celery = make_celery(settings)
    store = Store(
        uri,
        settings.redis_url,
        settings.session_days,
        on_activity=celery.nudge_stats,
        on_message=celery.nudge_push,
        heartbeat_seconds=settings.heartbeat_seconds,
    )
    store.ensure_indexes()
    images = build_image_store(settings)
    celery.use(store, images)  # eager tasks (the embedded default) run on the web process's own stores
    celery.chat_vapid  # noqa: B018 - made (or read) now, so a DATA_DIR that cannot hold it fails the start
    app = Bottle()
    app.config.update({"chat.settings": settings, "chat.store": store, "chat.images": images, "chat.celery": celery})
    app.add_hook("before_request", guard_request)
    app.add_hook("after_request", lambda: no_store() if request.path.startswith(("/auth/", "/v1/")) else None)
    register_all(app)
    return app


SWITCH_INTERVAL = 0.05  # seconds a thread may hold the GIL before a waiting one asks for it


def server_options(settings: Settings) -> dict:
    """waitress options sized for long-lived SSE streams (see README, 'Capacity')."""
    return {
        "threads": settings.web_threads,
        "connection_limit": settings.connection_limit,
        "asyncore_use_poll": True,
        "channel_request_lookahead": 1,
        "channel_timeout": 60,
        "cleanup_interval": 10,
        # waitress spools a chunked body to disk before the app sees it: cap it at what any route accepts.
        "max_request_body_size": settings.image_max_bytes + 64 * 1024,
        "ident": "chat",
    }


def raise_open_files_limit(wanted: int) -> None:
    """Each open stream is a socket; lift the soft open-files limit toward the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def tune_process(settings: Settings) -> None:
    """Fit this process for 1,000+ open streams (README, "Capacity")."""
    raise_open_files_limit(settings.connection_limit + 256)
    # A thousand stream threads wake together for each event; with the default 5 ms interval the
    # waiting ones keep forcing GIL hand-offs: 160 instead of 110 ms of CPU per message.
    sys.setswitchinterval(SWITCH_INTERVAL)
    # waitress's own loop asks every open connection what it waits for at each wake-up (see webloop.py).
    webloop.install()


def create_web_app() -> Bottle:
    """The Procfile's factory (`waitress-serve --call chat:create_web_app`): the tuned process's app."""
    settings = from_env()
    tune_process(settings)
    return create_app(settings)


class StartupError(Exception):
    """The service cannot start; the message is one line naming the setting, port or folder and what to do."""


def cannot_listen(settings: Settings, exc: OSError | ValueError) -> str:
    """What a failed bind means for the person who started the service."""
    host, port = settings.host, settings.port
    code = getattr(exc, "errno", None)
    if code == errno.EADDRINUSE:
        return f"port {port} is in use: stop the other server or set PORT to a free port"
    if code == errno.EACCES:
        return f"port {port} needs privileges this process lacks: set PORT to 1024 or above"
    if code == errno.EADDRNOTAVAIL:
        return f"HOST={host} is not an address of this machine: set HOST=127.0.0.1 (this machine) or 0.0.0.0 (all)"
    if isinstance(exc, ValueError):  # waitress's word for a name that does not resolve
        return f"HOST={host} is not a known host name or address: set HOST=127.0.0.1 or 0.0.0.0"
    return f"cannot listen on {host}:{port} ({exc.strerror or exc}): check HOST and PORT"


def listen(app: Bottle, settings: Settings):
    """Bind the HTTP socket (the caller runs it); raise StartupError when the host or port cannot be used."""
    import waitress

    try:
        return waitress.create_server(app, host=settings.host, port=settings.port, **server_options(settings))
    except (OSError, ValueError) as exc:
        raise StartupError(cannot_listen(settings, exc)) from None


def cannot_reach_mongodb(settings: Settings, exc: pymongo.errors.ServerSelectionTimeoutError) -> str:
    """A MONGODB_URI that does not answer, named by its hosts (the URI itself may hold a password)."""
    first = str(exc).split(" (configured timeouts", 1)[0].split(", Timeout:", 1)[0]
    if not settings.mongodb_uri:
        return f"the embedded database stopped answering ({first}): see {settings.data_dir / 'secantusd.log'}"
    try:
        hosts = ",".join(f"{h}:{p}" for h, p in pymongo.uri_parser.parse_uri(settings.mongodb_uri)["nodelist"])
    except (pymongo.errors.PyMongoError, ValueError):
        hosts = "?"
    return f"MongoDB at {hosts} (MONGODB_URI) does not answer ({first}): start it or fix MONGODB_URI"


def serve(settings: Settings) -> None:
    """Build the app, bind the socket, say so, and serve until stopped."""
    logging.basicConfig()  # warnings to stderr, as waitress.serve and waitress-serve (the Procfile) do
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # run atexit: stops the embedded database
    tune_process(settings)
    server = listen(create_app(settings), settings)
    print(f"chat serving on http://{settings.host}:{settings.port}/", flush=True)
    server.run()


def release(settings: Settings) -> None:
    """The Procfile's release step: create every index (idempotent)."""
    if not settings.mongodb_uri:
        raise SystemExit("release needs MONGODB_URI")
    Store(settings.mongodb_uri, settings.redis_url).ensure_indexes()
    print("indexes created", flush=True)


def main(argv: list[str]) -> None:
    """`python chat.py [serve|release]`; a start-up failure is one line on stderr and a non-zero exit."""
    command = argv[1] if len(argv) > 1 else "serve"
    if command not in ("serve", "release"):
        raise SystemExit(f"usage: python chat.py [serve|release] (not {command!r})")
    settings = from_env()  # a setting out of range exits here with a line naming it
    try:
        {"serve": serve, "release": release}[command](settings)
    except KeyboardInterrupt:
        raise SystemExit(130) from None  # Ctrl-C: a normal way to stop, no traceback
    except (StartupError, EmbeddedDatabaseError) as exc:
        raise SystemExit(f"chat could not start: {exc}") from None
    except pymongo.errors.ServerSelectionTimeoutError as exc:
        raise SystemExit(f"chat could not start: {cannot_reach_mongodb(settings, exc)}") from None
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - a start-up failure of any kind: say why, exit non-zero
        raise SystemExit(f"chat could not start: {type(exc).__name__}: {exc}") from None


if __name__ == "__main__":
    main(sys.argv)
