"""Mail: the password-reset letter, built with `email` and sent with `smtplib` (or kept in DATA_DIR/outbox).

SMTP_URL schemes: `smtp://[user:pass@]host[:25]` plain, `smtp+starttls://…[:587]` upgraded with STARTTLS,
`smtps://…[:465]` TLS from the first byte. Without SMTP_URL each letter is logged and written to
`DATA_DIR/outbox/<time>-<id>.eml`.
"""

import secrets
import smtplib
import ssl
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from celery.utils.log import get_task_logger

from settings import Settings

SEND_RESET = "chat.send_reset"
RETRIES = 8
BACKOFF_SECONDS = 1.0  # waits of 1, 2, 4 … 128 s between tries: about four minutes of SMTP outage in all
SMTP_TIMEOUT = 10
PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}

logger = get_task_logger(__name__)


def reset_letter(settings: Settings, email: str, token: str) -> EmailMessage:
    link = f"{settings.base_url()}/#reset={token}"
    letter = EmailMessage()
    letter["From"] = settings.mail_from
    letter["To"] = email
    letter["Subject"] = "Reset your chat password"
    letter["Date"] = format_datetime(datetime.now(UTC))
    letter["Message-ID"] = make_msgid(domain=settings.mail_from.rsplit("@", 1)[1])
    letter.set_content(
        f"Someone (we hope you) asked to reset the password of {email} on chat.\n\n"
        f"Open this link within 30 minutes to choose a new one (it works once):\n\n{link}\n\n"
        "If it was not you, ignore this letter: your password stays as it is.\n"
    )
    return letter


def send_smtp(url: str, letter: EmailMessage) -> None:
    """Send through SMTP_URL; raises OSError or smtplib.SMTPException when the server is away or refuses."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host, port = parts.hostname or "localhost", parts.port or PORTS[scheme]
    context = ssl.create_default_context()
    if scheme == "smtps":
        client = smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT, context=context)
    else:
        client = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT)
    with client:
        if scheme == "smtp+starttls":
            client.starttls(context=context)
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(letter)


def keep_in_outbox(data_dir: Path, letter: EmailMessage) -> Path:
    """The embedded default: the letter goes to the log and to DATA_DIR/outbox/<time>-<id>.eml."""
    outbox = data_dir / "outbox"
    outbox.mkdir(parents=True, exist_ok=True)
    t = time.time()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(t)) + f".{int(t % 1 * 1e6):06d}Z"  # names sort by time
    path = outbox / f"{stamp}-{secrets.token_hex(4)}.eml"
    path.write_bytes(bytes(letter))
    logger.warning("no SMTP_URL: mail to %s kept in %s\n%s", letter["To"], path, letter.get_content())
    return path


def deliver(settings: Settings, letter: EmailMessage) -> None:
    if settings.smtp_url:
        send_smtp(settings.smtp_url, letter)
    else:
        keep_in_outbox(settings.data_dir, letter)


def send_reset(task, email: str) -> bool:
    """Mail a fresh reset link if `email` is a live account; True when a letter went out.

    Each try issues a new token (superseding the last, which was never delivered), so a retry or a
    duplicate run leaves exactly one valid link: the one in the newest letter.
    """
    settings = task.app.chat_settings
    token = task.app.chat_store.resets.issue(email)
    if token is None:
        return False
    try:
        deliver(settings, reset_letter(settings, email, token))
    except (OSError, smtplib.SMTPException) as exc:
        if task.request.is_eager:
            raise  # the embedded default has no queue to wait in: the route logs it
        wait = BACKOFF_SECONDS * 2**task.request.retries
        logger.warning("mail to %s: %s; try %d of %d in %g s", email, exc, task.request.retries + 2, RETRIES + 1, wait)
        raise task.retry(exc=exc, countdown=wait, max_retries=RETRIES) from None
    return True


def register(app) -> None:
    """Register the mail tasks on a Celery app."""
    app.task(name=SEND_RESET, bind=True, acks_late=True)(send_reset)
