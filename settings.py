"""Settings: the only reader of os.environ."""

import os
import re
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
    vapid_private_key: str | None = None  # base64url of the raw P-256 scalar; unset: DATA_DIR/vapid.pem
    vapid_subject: str = "mailto:chat@localhost"
    smtp_url: str | None = None
    mail_from: str = "chat@localhost"
    public_url: str | None = None
    reset_rate: tuple[int, int] = (3, 3600)
    reset_rate_per_address: tuple[int, int] = (20, 3600)
    export_rate: tuple[int, int] = (2, 3600)
    hook_rate: tuple[int, int] = (30, 60)

    def base_url(self) -> str:
        """Where people reach the service: links in mail start here (never the request's Host: it is forged at will)."""
        return self.public_url or f"http://localhost:{self.port}"


MIN_WEB_THREADS = 65  # routes/events.py keeps 64 threads for requests other than event streams


def _whole(low: int, high: int, what: str = ""):
    """A parser of whole numbers from low to high; its error says what is allowed."""
    allowed = what or f"use a whole number from {low} to {high}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise ValueError(allowed) from None
        if not low <= value <= high:
            raise ValueError(allowed)
        return value

    return parse


def _seconds(high: float):
    """A parser of a duration in seconds, above 0 and at most high."""
    allowed = f"use a number of seconds above 0 and at most {high:g}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise ValueError(allowed) from None
        if not 0 < value <= high:  # also refuses nan
            raise ValueError(allowed)
        return value

    return parse


def _rate(text: str) -> tuple[int, int]:
    """Parse 'COUNT/SECONDS', e.g. '20/10'; both at least 1 (a 0 s window would never limit anything)."""
    allowed = "a rate is COUNT/SECONDS, both whole numbers of at least 1 (e.g. 20/10)"
    count, _, seconds = text.partition("/")
    try:
        rate = int(count), int(seconds)
    except ValueError:
        raise ValueError(allowed) from None
    if min(rate) < 1:
        raise ValueError(allowed)
    return rate


def _url(*schemes: str):
    """A parser that accepts a URL with one of these schemes."""
    allowed = "use a URL starting with " + " or ".join(f"{scheme}://" for scheme in schemes)

    def parse(text: str) -> str:
        scheme, sep, rest = text.partition("://")
        if not sep or scheme.lower() not in schemes or not rest or any(c.isspace() for c in text):
            raise ValueError(allowed)
        return text

    return parse


def _host(text: str) -> str:
    """A host name or an IP address (the address is checked when the server binds it)."""
    if len(text) > 253 or not re.fullmatch(r"[A-Za-z0-9.:_-]+", text):
        raise ValueError("use a host name or an IP address, e.g. 127.0.0.1 (this machine) or 0.0.0.0 (everywhere)")
    return text


def _bucket(text: str) -> str:
    """An S3 bucket name: 3 to 63 lower-case letters, digits, dots and hyphens."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", text):
        raise ValueError("an S3 bucket name is 3 to 63 lower-case letters, digits, dots and hyphens")
    return text


def _vapid_key(text: str) -> str:
    """A P-256 private key, PEM (newlines may be written \\n) or base64url of the raw 32-byte scalar or DER;
    kept as base64url of the raw scalar, the form py_vapid reads."""
    import base64

    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_der_private_key, load_pem_private_key

    allowed = "use a P-256 private key: PEM (e.g. the private_key.pem of `vapid --gen`), or base64url of its 32 bytes"
    try:
        if "-----BEGIN" in text:
            key = load_pem_private_key(text.replace("\\n", "\n").encode(), password=None)
        else:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            if len(raw) == 32:
                key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
            else:
                key = load_der_private_key(raw, password=None)
    except (ValueError, TypeError):
        raise ValueError(allowed) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError(allowed)
    scalar = key.private_numbers().private_value.to_bytes(32, "big")
    return base64.urlsafe_b64encode(scalar).rstrip(b"=").decode()


def _vapid_subject(text: str) -> str:
    """Who runs this service, for push services: a mailto: address or an https: URL."""
    if not re.fullmatch(r"mailto:[^@\s]+@[^@\s]+|https://[^\s/]+(/\S*)?", text) or len(text) > 200:
        raise ValueError("use mailto:<an email address> or an https:// URL of at most 200 characters")
    return text


def _mail_address(text: str) -> str:
    """One plain address for the From header."""
    if len(text) > 254 or not re.fullmatch(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+", text):
        raise ValueError("use one email address, e.g. chat@example.com")
    return text


_READERS = {
    "PORT": ("port", _whole(1, 65535, "a port is a whole number from 1 to 65535")),
    "HOST": ("host", _host),
    "DATA_DIR": ("data_dir", Path),
    "MONGODB_URI": ("mongodb_uri", _url("mongodb", "mongodb+srv")),
    "REDIS_URL": ("redis_url", _url("redis", "rediss", "unix")),
    "S3_BUCKET": ("s3_bucket", _bucket),
    "S3_ENDPOINT_URL": ("s3_endpoint_url", _url("http", "https")),
    "S3_PUBLIC_URL": ("s3_public_url", lambda v: _url("http", "https")(v).rstrip("/")),
    "ADMIN_USERS": ("admin_users", lambda v: frozenset(e.strip().lower() for e in v.split(",") if e.strip())),
    "IMAGE_MAX_BYTES": ("image_max_bytes", _whole(1, 1 << 30)),
    "WEB_THREADS": (
        "web_threads",
        _whole(MIN_WEB_THREADS, 10000, "use a whole number from 65 to 10000 (64 serve requests other than streams)"),
    ),
    "WEB_CONNECTION_LIMIT": ("connection_limit", _whole(1, 100_000)),
    "PROXY_HOPS": ("proxy_hops", _whole(0, 20)),
    "SESSION_DAYS": ("session_days", _whole(1, 3650)),
    "RATE_MESSAGES": ("message_rate", _rate),
    "RATE_LOGIN": ("login_rate", _rate),
    "RATE_LOGIN_ADDRESS": ("login_rate_per_address", _rate),
    "RATE_REGISTER": ("register_rate", _rate),
    "RATE_UPLOADS": ("upload_rate", _rate),
    "RATE_INVITES": ("invite_rate", _rate),
    "RATE_LINKS": ("link_rate", _rate),
    "RATE_TYPING": ("typing_rate", _rate),
    "STREAMS_PER_USER": ("streams_per_user", _whole(1, 10000)),
    "IMAGE_WAIT_SECONDS": ("image_wait_seconds", _seconds(600)),
    "BROKER_VISIBILITY_TIMEOUT": ("broker_visibility_timeout", _whole(1, 3600)),
    "STREAM_MAX_SECONDS": ("stream_max_seconds", _seconds(86400)),
    "HEARTBEAT_SECONDS": ("heartbeat_seconds", _seconds(3600)),
    "VAPID_PRIVATE_KEY": ("vapid_private_key", _vapid_key),
    "VAPID_SUBJECT": ("vapid_subject", _vapid_subject),
    "SMTP_URL": ("smtp_url", _url("smtp", "smtp+starttls", "smtps")),
    "MAIL_FROM": ("mail_from", _mail_address),
    "PUBLIC_URL": ("public_url", lambda v: _url("http", "https")(v).rstrip("/")),
    "RATE_RESET": ("reset_rate", _rate),
    "RATE_RESET_ADDRESS": ("reset_rate_per_address", _rate),
    "RATE_EXPORT": ("export_rate", _rate),
    "RATE_HOOK": ("hook_rate", _rate),
}
# May hold a password or a key: an error never repeats their value.
SECRET = {"MONGODB_URI", "REDIS_URL", "SMTP_URL", "VAPID_PRIVATE_KEY"}


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
                plain = raw.isprintable() and " " not in raw
                shown = name if name in SECRET else f"{name}={raw if plain else repr(raw)}"
                raise SystemExit(f"{shown} is not valid: {exc}") from None
    return Settings(**values)
