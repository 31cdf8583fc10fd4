"""Accounts: register, login, logout, password change and reset, sessions, export, deletion, deactivation."""

import logging
import re

from bottle import HTTPResponse, response

from routes.common import (
    SESSION_COOKIE,
    celery,
    client_address,
    current_session,
    current_user,
    fail,
    is_admin,
    is_https,
    json_answer,
    read_fields,
    session_token,
    settings,
    store,
    too_many,
    user_agent,
)
from routes.inputs import normal_email
from store.errors import Conflict, Forbidden, NotFound, RateLimited
from tasks.mail import SEND_RESET

log = logging.getLogger(__name__)
RESET_TOKEN = re.compile(r"[A-Za-z0-9_-]{22,128}")


def valid_password(value, what: str = "password") -> str:
    if not isinstance(value, str) or not 8 <= len(value) <= 1024:
        fail(400, f"{what} must be a string of 8 to 1024 characters")
    return value


def _credentials() -> tuple[str, str]:
    fields = read_fields()
    email, password = normal_email(fields.get("username")), fields.get("password")
    if email is None:
        fail(400, "username must be an email address (at most 254 characters)")
    return email, valid_password(password)


def start_session(user: str) -> None:
    token = store().sessions.open(user, client_address(), user_agent())
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
    start_session(email)
    response.status = 201
    return {"user": email}


def _login_keys(email: str) -> tuple:
    cfg = settings()
    return ((f"login:user:{email}", cfg.login_rate), (f"login:addr:{client_address()}", cfg.login_rate_per_address))


def _check_password(email: str, password: str) -> None:
    """Return when the password is right; 429 while the login limits are used up, 401 (counted) when wrong."""
    limiter, keys = store().limiter, _login_keys(email)
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
    except Forbidden:
        fail(403, "this account is deactivated: ask an administrator")
    limiter.reset(keys[0][0])


def login_user():
    """POST /auth/login: 200 {user} and a fresh session; 401 wrong credentials, 400, 429 + Retry-After."""
    email, password = _credentials()
    _check_password(email, password)
    start_session(email)
    return {"user": email}


def logout_user():
    """GET|POST /auth/logout: 200 {user: null}; the session (if any) is destroyed server-side."""
    token = session_token()
    if token:
        store().sessions.close(token)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=is_https())
    return {"user": None}


def change_password():
    """POST /auth/password {current, password}: 200 {user, ended}; every other session ends. 400, 401, 429."""
    user = current_user()
    fields = read_fields()
    current = fields.get("current")
    if not isinstance(current, str) or not 1 <= len(current) <= 1024:
        fail(400, "current must be your present password")
    password = valid_password(fields.get("password"))
    _check_password(user, current)
    store().users.set_password(user, password)
    ended = store().sessions.end_others(user, current_session())
    return {"user": user, "ended": ended}


def request_reset():
    """POST /auth/reset {username}: 202 always (mail goes out if the account exists); 400, 429 per address/email."""
    email = normal_email(read_fields().get("username"))
    if email is None:
        fail(400, "username must be an email address (at most 254 characters)")
    cfg, limiter = settings(), store().limiter
    try:
        limiter.hit(f"reset:addr:{client_address()}", *cfg.reset_rate_per_address)
        limiter.hit(f"reset:user:{email}", *cfg.reset_rate)
    except RateLimited as limited:
        too_many(limited.retry_after, "too many reset requests")
    try:
        # The task looks the account up: the answer and its time are the same whether or not it exists.
        celery().tasks[SEND_RESET].delay(email)
    except Exception:  # noqa: BLE001 - the embedded default runs it here; a failure must not tell anything
        log.exception("the password reset mail could not be sent")
    response.status = 202
    return {"queued": True}


def confirm_reset():
    """POST /auth/reset/confirm {token, password}: 200 {user} and a fresh session, every other one ended; 400."""
    fields = read_fields()
    token = fields.get("token")
    if not isinstance(token, str) or not RESET_TOKEN.fullmatch(token):
        fail(400, "the reset link is not valid: ask for a new one")
    password = valid_password(fields.get("password"))
    email = store().resets.redeem(token)
    if email is None:
        fail(400, "the reset link is used, expired or replaced by a newer one: ask for a new one")
    store().users.set_password(email, password)
    store().sessions.end_others(email)
    store().limiter.reset(f"login:user:{email}")
    start_session(email)
    return {"user": email}


def export_data():
    """GET /v1/export: 200 the user's data as one JSON document, streamed; 401, 429 over RATE_EXPORT."""
    user = current_user()
    try:
        store().limiter.hit(f"export:{user}", *settings().export_rate)
    except RateLimited as limited:
        too_many(limited.retry_after, "too many exports")
    response.content_type = "application/json"
    response.set_header("Content-Disposition", 'attachment; filename="chat-export.json"')
    return (chunk.encode() for chunk in store().export.chunks(user, current_session()))


def delete_account():
    """DELETE /v1/profile {password, erase}: 200 {user: null, rooms_left, messages_erased}; 400, 401 (counted), 429."""
    user = current_user()
    fields = read_fields()
    password, erase = fields.get("password"), fields.get("erase", False)
    if not isinstance(password, str) or not 1 <= len(password) <= 1024:
        fail(400, "password must be your present password")
    if not isinstance(erase, bool):
        fail(400, "erase must be true or false")
    _check_password(user, password)
    done = store().accounts.delete(user, erase)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=is_https())
    return {"user": None, **done}


def _admin_target(userid: str) -> str:
    if not is_admin(current_user()):
        fail(403, "only an administrator may do this")
    email = normal_email(userid)
    if email is None:
        fail(404, "no such user")
    return email


def _set_deactivated(userid, deactivated: bool) -> dict:
    email = _admin_target(userid)
    try:
        store().accounts.deactivate(email, deactivated)
    except NotFound:
        fail(404, "no such user")
    return {"userid": email, "deactivated": deactivated}


def deactivate_user(userid):
    """POST /v1/admin/users/<userid>/deactivate: 200 {userid, deactivated: true}; its sessions end. 403, 404."""
    return _set_deactivated(userid, True)


def reactivate_user(userid):
    """POST /v1/admin/users/<userid>/reactivate: 200 {userid, deactivated: false}; 403, 404."""
    return _set_deactivated(userid, False)


def list_sessions():
    """GET /v1/sessions: 200 [{id, created, last_seen, address, agent, current}]; 401."""
    user = current_user()
    return json_answer(200, store().sessions.of(user, current_session()))


def end_session(id):
    """DELETE /v1/sessions/<id>: 204; 404 for a session that is not the user's."""
    user = current_user()
    if len(id) > 64 or not store().sessions.end(user, id):
        fail(404, "no such session")
    return HTTPResponse(status=204)


def end_other_sessions():
    """DELETE /v1/sessions: 200 {ended}: every session but this one ends."""
    user = current_user()
    return {"ended": store().sessions.end_others(user, current_session())}


def register(app) -> None:
    app.post("/auth/register", callback=register_user)
    app.post("/auth/login", callback=login_user)
    app.route("/auth/logout", ["GET", "POST"], callback=logout_user)
    app.post("/auth/password", callback=change_password)
    app.post("/auth/reset", callback=request_reset)
    app.post("/auth/reset/confirm", callback=confirm_reset)
    app.get("/v1/export", callback=export_data)
    app.delete("/v1/profile", callback=delete_account)
    app.post("/v1/admin/users/<userid>/deactivate", callback=deactivate_user)
    app.post("/v1/admin/users/<userid>/reactivate", callback=reactivate_user)
    app.get("/v1/sessions", callback=list_sessions)
    app.delete("/v1/sessions", callback=end_other_sessions)
    app.delete("/v1/sessions/<id>", callback=end_session)
