"""What every route shares: reading bodies, shaping errors, knowing the user."""

import json
import re
from urllib.parse import parse_qsl, urlsplit

from bottle import HTTPResponse, abort, request, response

BODY_LIMIT = 64 * 1024
HOOK_PATH = re.compile(r"/v1/hooks/[^/]+")  # exempt from the cross-site check: see guard_request
SESSION_COOKIE = "session"
# Where an error is answered as JSON rather than as the HTML error page.
JSON_ERROR_PREFIXES = (
    "/auth/",
    "/v1/room",
    "/v1/logs",
    "/v1/events",
    "/v1/openapi",
    "/v1/profile",
    "/v1/users",
    "/v1/invites",
    "/v1/join",
    "/v1/dm",
    "/v1/mentions",
    "/v1/search",
    "/v1/sessions",
    "/v1/export",
    "/v1/admin",
    "/v1/hooks",
)


def wants_json_errors() -> bool:
    return request.path.startswith(JSON_ERROR_PREFIXES)


def store():
    """The request's data layer."""
    return request.app.config["chat.store"]


def settings():
    return request.app.config["chat.settings"]


def images():
    """The request's image store (S3 or DATA_DIR/media)."""
    return request.app.config["chat.images"]


def celery():
    return request.app.config["chat.celery"]


def json_answer(status: int, body, headers: dict | None = None) -> HTTPResponse:
    """A finished JSON answer that bypasses the HTML error pages."""
    return HTTPResponse(json.dumps(body), status, {"Content-Type": "application/json", **(headers or {})})


def fail(status: int, error: str, headers: dict | None = None):
    """Stop the request with `{"error": ...}`."""
    raise json_answer(status, {"error": error}, headers)


def refuse(status: int, error: str):
    """Stop the request in the path's own error style: JSON on the JSON routes, the error page elsewhere."""
    if wants_json_errors():
        fail(status, error)
    abort(status, error)


def too_many(retry_after: int, what: str = "too many requests"):
    fail(429, f"{what}; retry after {retry_after} s", {"Retry-After": str(retry_after)})


class RepeatedKey(ValueError):
    """A JSON object names a key twice: parsers disagree on which value wins, so refuse it."""


def _unique_object(pairs: list) -> dict:
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise RepeatedKey()
    return fields


def _bad_text(fields: dict) -> str | None:
    """Why some string in a parsed body (keys included) is unacceptable, or None; iterative, as bodies nest deep."""
    pending = [fields]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str):
            if "\x00" in value:
                return "request body must not contain NUL characters"
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate from a JSON \ud800 escape: MongoDB cannot store it
                return "request body must be valid Unicode (no lone surrogates)"
    return None


def _json_fields(text: str) -> dict:
    try:
        fields = json.loads(text, object_pairs_hook=_unique_object) if text.strip() else {}
    except RepeatedKey:
        fail(400, "request body repeats a key")
    except (ValueError, RecursionError):
        fail(400, "request body is not valid JSON")
    if not isinstance(fields, dict):
        fail(400, "request body must be a JSON object")
    return fields


def _form_fields(text: str) -> dict:
    fields = {}
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=100, errors="strict")
    except ValueError:  # UnicodeDecodeError too: a %-escape that is not UTF-8
        fail(400, "request body is not a valid form")
    for key, value in pairs:
        # A repeated field is a list: the wrong type for every field we take.
        fields[key] = [fields[key], value] if key in fields else value
    return fields


def read_fields() -> dict:
    """The request's fields from a JSON object or a urlencoded form; 400 or 415 for anything else."""
    body = request.body.read(BODY_LIMIT + 1)
    if len(body) > BODY_LIMIT:
        fail(413, f"request body over {BODY_LIMIT} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        fail(400, "request body is not valid UTF-8")
    kind = request.content_type.split(";")[0].strip().lower()
    if kind == "application/json":
        fields = _json_fields(text)
    elif kind == "application/x-www-form-urlencoded" or not (kind or body):
        fields = _form_fields(text)
    else:
        fail(415, "send the body as application/json or application/x-www-form-urlencoded")
    problem = _bad_text(fields)
    if problem:
        fail(400, problem)
    return fields


def is_https() -> bool:
    return request.urlparts.scheme == "https"


def client_address() -> str:
    """The client's address; with PROXY_HOPS=n, the n-th X-Forwarded-For entry from the right."""
    hops = settings().proxy_hops
    if hops:
        forwarded = [a.strip() for a in request.environ.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.environ.get("REMOTE_ADDR") or "unknown"


def session_token() -> str | None:
    """The session cookie's token, found by hand: one malformed cookie (`$=`) makes http.cookies raise."""
    for pair in request.environ.get("HTTP_COOKIE", "").split(";"):
        name, _, token = pair.partition("=")
        if name.strip() == SESSION_COOKIE:  # the first: browsers send the most specific path first
            token = token.strip()
            return token if token and len(token) <= 200 else None
    return None


def signed_in_user() -> str | None:
    """The logged-in user's id, None without a live session (looked up once per request)."""
    if "chat.user" not in request.environ:
        token = session_token()
        found = store().sessions.lookup(token) if token else None
        request.environ["chat.user"] = found["u"] if found else None
        request.environ["chat.session"] = found["_id"] if found else None
    return request.environ["chat.user"]


def current_user() -> str:
    """The logged-in user's id; 401 without a live session."""
    user = signed_in_user()
    if user is None:
        fail(401, "log in first")
    return user


def current_session() -> str:
    """The key (token hash) of the request's live session; 401 without one."""
    current_user()
    return request.environ["chat.session"]


def user_agent() -> str:
    """The client's User-Agent header, as shown in the session list."""
    return request.headers.get("User-Agent", "").replace("\x00", "")


def is_admin(user: str) -> bool:
    """The user is named in ADMIN_USERS."""
    return user in settings().admin_users


def check_self(userid) -> None:
    """403 unless the named user is the session's user."""
    if current_user() != userid:
        fail(403, "you can only act as yourself")


def guard_request() -> None:
    """Before every request: refuse non-UTF-8 paths, cross-site writes, and oversize bodies before reading them."""
    try:
        request.environ["bottle.raw_path"].encode("latin-1").decode("utf-8")
    except UnicodeError:  # bottle would drop the bad bytes and route to a different path
        abort(400, "the path is not valid UTF-8")
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        origin = request.headers.get("Origin")
        # A webhook is called by other sites' servers by design: its secret URL is its only credential.
        cross_site = origin is not None and urlsplit(origin).netloc.lower() != request.urlparts.netloc.lower()
        if cross_site and not (request.method == "POST" and HOOK_PATH.fullmatch(request.path)):
            refuse(403, "cross-site request refused")
        limit = BODY_LIMIT
        if request.path == "/v1/image":
            limit = settings().image_max_bytes + BODY_LIMIT  # the file plus the form's own parts
        if request.content_length > limit:
            refuse(413, f"request body over {limit} bytes")


def no_store() -> None:
    """API answers are per user: never cache them."""
    response.set_header("Cache-Control", "no-store")
