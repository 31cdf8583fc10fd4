"""Settings: the only reader of os.environ."""

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Everything the service can be told, with the embedded defaults."""

    port: int = 8080
    host: str = "127.0.0.1"
    data_dir: Path = Path("var")
    mongodb_uri: str | None = None
    redis_url: str | None = None
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_public_url: str | None = None
    admin_users: frozenset[str] = field(default_factory=frozenset)
    image_max_bytes: int = 5 * 1024 * 1024
    web_threads: int = 1100
    connection_limit: int = 2000
    proxy_hops: int = 0
    session_days: int = 14
    message_rate: tuple[int, int] = (20, 10)
    login_rate: tuple[int, int] = (5, 300)
    login_rate_per_address: tuple[int, int] = (30, 300)
    register_rate: tuple[int, int] = (10, 3600)
    upload_rate: tuple[int, int] = (30, 600)
    invite_rate: tuple[int, int] = (50, 3600)
    link_rate: tuple[int, int] = (20, 3600)
    typing_rate: tuple[int, int] = (5, 10)
    streams_per_user: int = 20
    image_wait_seconds: float = 15.0
    broker_visibility_timeout: int = 600
    stream_max_seconds: float = 300.0
    heartbeat_seconds: float = 15.0


def _rate(text: str) -> tuple[int, int]:
    """Parse 'COUNT/SECONDS', e.g. '20/10'; both at least 1 (a 0 s window would never limit anything)."""
    count, _, seconds = text.partition("/")
    rate = int(count), int(seconds)
    if min(rate) < 1:
        raise ValueError("a rate is COUNT/SECONDS, both at least 1")
    return rate


def _count(text: str) -> int:
    """A whole number of at least 1 (0 streams per user would refuse every stream)."""
    if int(text) < 1:
        raise ValueError("it must be at least 1")
    return int(text)


_READERS = {
    "PORT": ("port", int),
    "HOST": ("host", str),
    "DATA_DIR": ("data_dir", Path),
    "MONGODB_URI": ("mongodb_uri", str),
    "REDIS_URL": ("redis_url", str),
    "S3_BUCKET": ("s3_bucket", str),
    "S3_ENDPOINT_URL": ("s3_endpoint_url", str),
    "S3_PUBLIC_URL": ("s3_public_url", lambda v: v.rstrip("/")),
    "ADMIN_USERS": ("admin_users", lambda v: frozenset(e.strip().lower() for e in v.split(",") if e.strip())),
    "IMAGE_MAX_BYTES": ("image_max_bytes", int),
    "WEB_THREADS": ("web_threads", int),
    "WEB_CONNECTION_LIMIT": ("connection_limit", int),
    "PROXY_HOPS": ("proxy_hops", int),
    "SESSION_DAYS": ("session_days", int),
    "RATE_MESSAGES": ("message_rate", _rate),
    "RATE_LOGIN": ("login_rate", _rate),
    "RATE_LOGIN_ADDRESS": ("login_rate_per_address", _rate),
    "RATE_REGISTER": ("register_rate", _rate),
    "RATE_UPLOADS": ("upload_rate", _rate),
    "RATE_INVITES": ("invite_rate", _rate),
    "RATE_LINKS": ("link_rate", _rate),
    "RATE_TYPING": ("typing_rate", _rate),
    "STREAMS_PER_USER": ("streams_per_user", _count),
    "IMAGE_WAIT_SECONDS": ("image_wait_seconds", float),
    "BROKER_VISIBILITY_TIMEOUT": ("broker_visibility_timeout", int),
    "STREAM_MAX_SECONDS": ("stream_max_seconds", float),
    "HEARTBEAT_SECONDS": ("heartbeat_seconds", float),
}


def from_env(environ=None) -> Settings:
    """Build Settings from environment variables; unset or empty ones keep their default."""
    environ = os.environ if environ is None else environ
    values = {}
    for name, (attr, parse) in _READERS.items():
        raw = environ.get(name, "").strip()
        if raw:
            try:
                values[attr] = parse(raw)
            except ValueError as exc:
                raise SystemExit(f"setting {name}={raw!r} is not valid: {exc}") from None
    return Settings(**values)
