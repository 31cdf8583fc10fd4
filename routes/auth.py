"""Accounts and sessions: register, login, logout, and who is logged in."""

from bottle import response

from routes.common import (
    SESSION_COOKIE,
    client_address,
    fail,
    is_https,
    read_fields,
    session_token,
    settings,
    store,
    too_many,
)
from routes.inputs import normal_email
from store.errors import Conflict, NotFound, RateLimited


def _credentials() -> tuple[str, str]:
    fields = read_fields()
    email, password = normal_email(fields.get("username")), fields.get("password")
    if email is None:
        fail(400, "username must be an email address (at most 254 characters)")
    if not isinstance(password, str) or not 8 <= len(password) <= 1024:
        fail(400, "password must be a string of 8 to 1024 characters")
    return email, password


def _start_session(user: str) -> None:
    token = store().sessions.open(user)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(),
        max_age=settings().session_days * 86400,
    )


def register_user():
    """POST /auth/register: 201 {user} and a session; 400 bad email or password, 409 taken, 429."""
    email, password = _credentials()
    count, window = settings().register_rate
    try:
        store().limiter.hit(f"register:{client_address()}", count, window)
    except RateLimited as limited:
        too_many(limited.retry_after, "too many registrations from this address")
    try:
        store().users.register(email, password)
    except Conflict:
        fail(409, "this email is already registered")
    _start_session(email)
    response.status = 201
    return {"user": email}


def login_user():
    """POST /auth/login: 200 {user} and a fresh session; 401 wrong credentials, 400, 429 + Retry-After."""
    email, password = _credentials()
    limiter, cfg = store().limiter, settings()
    keys = ((f"login:user:{email}", cfg.login_rate), (f"login:addr:{client_address()}", cfg.login_rate_per_address))
    try:
        for key, (count, _) in keys:
            limiter.check(key, count)
    except RateLimited as limited:
        too_many(limited.retry_after, "too many failed logins")
    try:
        store().users.authenticate(email, password)
    except NotFound:
        for key, (count, window) in keys:
            try:
                limiter.hit(key, count, window)
            except RateLimited:
                pass  # this attempt is answered 401; the next one gets 429
        fail(401, "invalid username or password")
    limiter.reset(keys[0][0])
    _start_session(email)
    return {"user": email}


def logout_user():
    """GET|POST /auth/logout: 200 {user: null}; the session (if any) is destroyed server-side."""
    token = session_token()
    if token:
        store().sessions.close(token)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=is_https())
    return {"user": None}


def register(app) -> None:
    app.post("/auth/register", callback=register_user)
    app.post("/auth/login", callback=login_user)
    app.route("/auth/logout", ["GET", "POST"], callback=logout_user)
