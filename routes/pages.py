"""The web page, static files, health, and the HTML error pages."""

import hashlib
from pathlib import Path
from urllib.parse import urlsplit

import bottle
import pymongo
from bottle import response, static_file

from routes.common import images, json_answer, settings, store, wants_json_errors

ROOT = Path(__file__).resolve().parent.parent
VIEWS = [str(ROOT / "views")]  # one list object: bottle caches templates by its id
INDEX_TEMPLATE = "index"
STATIC = str(ROOT / "static")


def asset_url(name: str) -> str:
    """A static file's URL carrying a digest of its content, so a changed file is never served stale."""
    digest = hashlib.sha256(Path(STATIC, name).read_bytes()).hexdigest()[:12]
    return f"/static/{name}?v={digest}"


def render(name: str, **values) -> str:
    return bottle.template(name, template_lookup=VIEWS, asset=asset_url, **values)


def image_base() -> str:
    """Where this service's image URLs start (`/media` or the S3 public URL): the client shows only those as images."""
    return images().url("").rstrip("/")


def content_policy(images: str) -> str:
    """The page loads nothing but its own files (and images from the image store): a second wall against XSS."""
    origin = "" if images.startswith("/") else " " + "://".join(urlsplit(images)[:2])
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        f"img-src 'self' blob:{origin}; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    )


def index():
    """GET /: the web client page, with its content-security policy; 404 when the template is missing."""
    images = image_base()
    try:
        page = render(INDEX_TEMPLATE, title="chat", image_base=images, image_max_bytes=settings().image_max_bytes)
    except bottle.TemplateError as exc:
        if "not found" in str(exc).lower():
            bottle.abort(404, "the page template is missing")
        raise
    response.set_header("Content-Security-Policy", content_policy(images))
    return page


def static(path):
    """GET /static/<path>: the client's files, cacheable for an hour (URLs carry a content digest)."""
    answer = static_file(path, root=STATIC)
    answer.set_header("Cache-Control", "public, max-age=3600")
    return answer


def healthz():
    """GET /healthz: 200 with each dependency's state, 503 when a configured one is down."""
    report = store().health()
    down = any(value not in ("ok", "off") for value in report.values())
    return json_answer(503 if down else 200, report)


def error_page(error: bottle.HTTPError):
    """Every error that a route did not shape: JSON for the API's JSON routes, HTML otherwise."""
    # An abort() says what went wrong; an unexpected exception's details stay in the log.
    message = error.body if isinstance(error.body, str) and error.exception is None else ""
    if isinstance(error.exception, pymongo.errors.ConnectionFailure):
        message = "the database is unavailable; try again shortly"
    if wants_json_errors():
        response.content_type = "application/json"
        return bottle.json_dumps({"error": message or error.status_line.split(" ", 1)[1].lower()})
    response.content_type = "text/html; charset=utf-8"
    return render(
        "error",
        title=error.status_line,
        status=error.status_code,
        reason=error.status_line.split(" ", 1)[1],
        message=message,
    )


def register(app) -> None:
    app.get("/", callback=index)
    app.get("/static/<path:path>", callback=static)
    app.get("/healthz", callback=healthz)
    for code in (400, 401, 403, 404, 405, 413, 415, 429, 500, 502, 503, 504):
        app.error(code)(error_page)
