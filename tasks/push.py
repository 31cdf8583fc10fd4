"""Web Push (RFC 8030/8291, VAPID RFC 8292): after a message, notify the members it concerns who have no page open."""

import concurrent.futures
import email.utils
import json
import logging
import threading
import time

import requests
from kombu.exceptions import OperationalError
from py_vapid import Vapid
from pywebpush import WebPushException, webpush
from redis.exceptions import RedisError

from store.push import message_notice

log = logging.getLogger(__name__)

PUSH_MESSAGE = "chat.push_message"
SEND_PUSH = "chat.send_push"
TEXT_MAX = 120  # characters of the message a notification shows
RETRIES = 4  # tries after the first for a push service that answers 429 or 5xx
BACKOFF_SECONDS = 1.0  # 1, 2, 4, 8 s unless the push service says Retry-After
RETRY_AFTER_MAX = 600.0  # a longer Retry-After is cut to this
TTL_SECONDS = 24 * 3600  # how long a push service keeps a notification for a device that is off
TIMEOUT_SECONDS = 10


def wanted(level: str, user: str, notice: dict) -> bool:
    """Whether a member at this notification level hears of the message."""
    return user != notice["author"] and (level == "all" or (level == "mentions" and user in notice["mentions"]))


def payload(notice: dict, user: str, sender: str, previews: bool) -> dict:
    """The notification's content; a private room's (or direct message's) text only when the subscription allows."""
    text = notice["text"] if previews or not notice["private"] else None
    if text is not None and len(text) > TEXT_MAX:
        text = text[: TEXT_MAX - 1] + "…"
    return {
        "roomid": notice["roomid"],
        "id": notice["id"],
        "room": sender if notice["kind"] == "dm" else notice["name"],  # a DM is named for the other person
        "sender": sender,
        "text": text,
        "mention": user in notice["mentions"],
        "url": f"/#room={notice['roomid']}",
    }


def targets(store, roomid: str, message_id: int, only: str | None = None) -> tuple[dict | None, list[dict]]:
    """The message's notice and the subscriptions to push it to: members (not its author) whose level wants it,
    who have a subscription and no live stream open. `only`: just this subscription (a retry)."""
    notice = message_notice(store.db, roomid, message_id)
    if notice is None:
        return None, []
    levels = store.attention.levels(roomid, notice["members"], notice["kind"])
    users = [user for user, level in levels.items() if wanted(level, user, notice)]
    subscriptions = [s for s in store.push.of(users) if only is None or s["_id"] == only]
    online = store.presence.online(sorted({s["u"] for s in subscriptions})) if subscriptions else set()
    return notice, [s for s in subscriptions if s["u"] not in online]


def retry_after(response) -> float | None:
    """Seconds from a Retry-After header (seconds or an HTTP date), or None."""
    value = (response.headers.get("Retry-After") or "").strip() if response is not None else ""
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def deliver(app, subscription: dict, data: dict) -> float | None:
    """Send one push; None when done (delivered, or given up), else the seconds to wait before trying again."""
    info = {
        "endpoint": subscription["endpoint"],
        "keys": {"p256dh": subscription["p256dh"], "auth": subscription["auth"]},
    }
    try:
        webpush(
            info,
            json.dumps(data),
            vapid_private_key=Vapid.from_raw(app.chat_vapid.encode()),
            vapid_claims={"sub": app.chat_settings.vapid_subject},  # a fresh dict: webpush adds aud and exp
            ttl=TTL_SECONDS,
            timeout=TIMEOUT_SECONDS,
            content_encoding="aes128gcm",
        )
        return None
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in (404, 410):  # the browser unsubscribed: this endpoint is gone for good
            app.chat_store.push.drop(subscription["_id"], subscription["endpoint"])
            log.info("push subscription of %s is gone (%s): deleted", subscription["u"], status)
            return None
        if status == 429 or (status is not None and status >= 500):
            return retry_after(exc.response) or 0.0
        log.warning("push to %s refused (%s): dropped", subscription["u"], status or exc.message)
        return None
    except requests.RequestException as exc:  # the push service did not answer
        log.warning("push to %s failed: %s", subscription["u"], exc)
        return 0.0


def send(task, subscription: dict, notice: dict, names: dict, attempt: int) -> None:
    """Push to one subscription; a push service that is busy gets the message again later (backoff, Retry-After)."""
    sender = names.get(notice["author"], notice["author"])
    wait = deliver(
        task.app, subscription, payload(notice, subscription["u"], sender, subscription.get("previews", False))
    )
    if wait is None:
        return
    if attempt >= RETRIES:
        log.warning("push to %s still failing after %d tries: dropped", subscription["u"], attempt + 1)
        return
    delay = min(RETRY_AFTER_MAX, max(wait, BACKOFF_SECONDS * 2**attempt))
    args = (subscription["_id"], notice["roomid"], notice["id"], attempt + 1)
    later(task.app, SEND_PUSH, args, delay)


def push_message(task, roomid: str, message_id: int) -> None:
    """Notify of a new message everyone it concerns; re-reads the room, the levels and the subscriptions."""
    store = task.app.chat_store
    notice, subscriptions = targets(store, roomid, message_id)
    if subscriptions:
        names = store.users.names([notice["author"]])
        for subscription in subscriptions:
            send(task, subscription, notice, names, 0)


def send_push(task, subscription_id: str, roomid: str, message_id: int, attempt: int) -> None:
    """Try one subscription again; everything is read again, so a deleted message or a muted room sends nothing."""
    store = task.app.chat_store
    notice, subscriptions = targets(store, roomid, message_id, only=subscription_id)
    for subscription in subscriptions:
        send(task, subscription, notice, store.users.names([notice["author"]]), attempt)


def later(app, name: str, args: tuple, delay: float) -> None:
    """Run a task after `delay` seconds: queued with a countdown, or on a timer in the embedded default."""
    if app.conf.task_always_eager:
        timer = threading.Timer(delay, app.tasks[name].apply, args=(args,))
        timer.daemon = True
        timer.start()
    else:
        app.tasks[name].apply_async(args, countdown=delay)


class QueueNudge:
    """A worker pushes: the post only enqueues (roomid, id)."""

    def __init__(self, app):
        self._app = app

    def __call__(self, roomid: str, message_id: int) -> None:
        try:
            self._app.tasks[PUSH_MESSAGE].apply_async((roomid, message_id), expires=TTL_SECONDS)
        except (RedisError, OperationalError) as exc:  # the message is stored: a lost notification is the lesser harm
            log.warning("push nudge failed: %s", exc)


class ThreadNudge:
    """The embedded default (no worker): one background thread pushes, so a post never waits for a push service."""

    def __init__(self, app):
        self._app = app
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="chat-push")

    def __call__(self, roomid: str, message_id: int) -> None:
        self._pool.submit(self._run, roomid, message_id)

    def _run(self, roomid: str, message_id: int) -> None:
        try:
            self._app.tasks[PUSH_MESSAGE].apply((roomid, message_id))
        except Exception as exc:  # noqa: BLE001 - a background thread has nobody else to tell
            log.warning("push failed: %s", exc)


def register(app) -> None:
    """Register the push tasks and the nudge the store calls after each new message."""
    app.task(name=PUSH_MESSAGE, bind=True, ignore_result=True)(push_message)
    app.task(name=SEND_PUSH, bind=True, ignore_result=True)(send_push)
    app.nudge_push = ThreadNudge(app) if app.conf.task_always_eager else QueueNudge(app)
