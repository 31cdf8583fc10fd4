"""The web page, static files, health, and the HTML error pages."""

import base64
import functools
import hashlib
import json
from pathlib import Path
from urllib.parse import urlsplit

import bottle
import pymongo
from bottle import response, static_file

from routes.common import images, json_answer, settings, signed_in_user, store, wants_json_errors

ROOT = Path(__file__).resolve().parent.parent
VIEWS = [str(ROOT / "views")]  # one list object: bottle caches templates by its id
INDEX_TEMPLATE = "index"
STATIC = str(ROOT / "static")
MODULES = "js"  # the web client's ES modules, under static/
MODULE_PREFIX = "chat/"  # the import map's name for static/js/x.js is chat/x


@functools.lru_cache(maxsize=256)
def _digest(path: str, mtime_ns: int, size: int) -> str:
    """A file's content digest, read once per version of the file (its mtime and size are part of the key)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def asset_url(name: str) -> str:
    """A static file's URL carrying a digest of its content, so a changed file is never served stale."""
    path = Path(STATIC, name)
    stat = path.stat()
    return f"/static/{name}?v={_digest(str(path), stat.st_mtime_ns, stat.st_size)}"


def module_urls() -> dict[str, str]:
    """Each client module's import-map name (chat/x for static/js/x.js) and its versioned URL."""
    names = sorted(path.name for path in Path(STATIC, MODULES).glob("*.js"))
    return {MODULE_PREFIX + name.removesuffix(".js"): asset_url(f"{MODULES}/{name}") for name in names}


def import_map(imports: dict[str, str] | None = None) -> str:
    """The page's import map: each module's name to its versioned URL, so a change re-fetches it everywhere."""
    return json.dumps({"imports": module_urls() if imports is None else imports}, indent=1)


def script_hash(text: str) -> str:
    """The CSP source that allows exactly one inline script (the import map) and no other."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def render(name: str, **values) -> str:
    return bottle.template(name, template_lookup=VIEWS, asset=asset_url, **values)


def image_base() -> str:
    """Where this service's image URLs start (`/media` or the S3 public URL): the client shows only those as images."""
    return images().url("").rstrip("/")


def content_policy(images: str, inline_scripts: tuple[str, ...] = ()) -> str:
    """The page loads nothing but its own files (and images from the image store): a second wall against XSS.

    `inline_scripts` are the exact texts of the page's own inline scripts (the import map), allowed by hash.
    """
    origin = "" if images.startswith("/") else " " + "://".join(urlsplit(images)[:2])
    hashes = "".join(" " + script_hash(text) for text in inline_scripts)
    return (
        f"default-src 'self'; script-src 'self'{hashes}; style-src 'self'; connect-src 'self'; "
        f"img-src 'self' blob:{origin}; worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    )


def index():
    """GET /: the web client page, with its content-security policy; 404 when the template is missing."""
    images = image_base()
    urls = module_urls()
    modules = import_map(urls)
    user = signed_in_user()
    # Who is signed in, as GET /auth/me says it: the page starts without asking (one round trip fewer).
    me = ""
    if user is not None:
        profile = store().users.profile(user)
        me = json.dumps({"user": user, "name": profile["name"], "avatar": profile["avatar"]})
    try:
        page = render(
            INDEX_TEMPLATE,
            me=me,
            title="chat",
            image_base=images,
            image_max_bytes=settings().image_max_bytes,
            import_map=modules,
            preload=list(urls.values()),  # every module fetched at once, not one import level at a time
        )
    except bottle.TemplateError as exc:
        if "not found" in str(exc).lower():
            bottle.abort(404, "the page template is missing")
        raise
    response.set_header("Content-Security-Policy", content_policy(images, (modules,)))
    response.set_header("Cache-Control", "no-store")  # it names who is signed in
    return page


def static(path):
    """GET /static/<path>: the client's files, cacheable for an hour (URLs carry a content digest)."""
    answer = static_file(path, root=STATIC)
    answer.set_header("Cache-Control", "public, max-age=3600")
    return answer


def service_worker():
    """GET /sw.js: the service worker that shows Web Push notifications; served at the root so its scope is the site."""
    answer = static_file("sw.js", root=STATIC, mimetype="text/javascript")
    answer.set_header("Cache-Control", "no-cache")  # a new version is picked up at the browser's next check
    return answer


def favicon():
    """The icon browsers ask for by themselves: the same SVG the pages link."""
    answer = static_file("favicon.svg", root=STATIC, mimetype="image/svg+xml")
    answer.set_header("Cache-Control", "public, max-age=86400")
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
    app.get("/favicon.ico", callback=favicon)
    app.get("/sw.js", callback=service_worker)
    app.get("/healthz", callback=healthz)
    for code in (400, 401, 403, 404, 405, 413, 415, 429, 500, 502, 503, 504):
        app.error(code)(error_page)
