"""POST /v1/image: check an upload, have a worker store it, answer its URL; GET /media/... in the embedded default."""

from bottle import HTTPError, abort, request, static_file
from celery.exceptions import TimeoutError as TaskTimeout

from routes.common import BODY_LIMIT, celery, current_user, images, settings, store
from store.errors import RateLimited
from store.media import CACHE_CONTROL, CONTENT_TYPES, FolderImages, StorageFailed, image_name
from tasks.images import STORE_IMAGE

LABEL_MAX_BYTES = 255  # a file name's limit on most file systems


class BoundedInput:
    """wsgi.input that gives at most `limit` bytes and answers 413 beyond: for bodies of unknown length."""

    def __init__(self, stream, limit: int):
        self._stream = stream
        self._left = limit

    def read(self, size: int = -1) -> bytes:
        size = self._left + 1 if size is None or size < 0 else min(size, self._left + 1)
        data = self._stream.read(size)
        self._left -= len(data)
        if self._left < 0:
            abort(413, "the request body is too large")
        return data


def read_upload(limit: int) -> tuple[bytes, str]:
    """The `file` part's bytes and the `key` label of a multipart form; 400 or 413 when they are not right."""
    if request.content_length < 0:  # chunked: the before_request guard could not check the length
        request.environ["wsgi.input"] = BoundedInput(request.environ["wsgi.input"], limit + BODY_LIMIT)
    if request.content_type.split(";")[0].strip().lower() != "multipart/form-data":
        abort(400, "send the image as multipart/form-data, in a field named file")
    try:
        files, labels = request.files.getall("file"), request.forms.getall("key")
    except (ValueError, LookupError):  # bottle's parser lets these out for a bad charset or part header
        abort(400, "the multipart form is malformed")
    if len(files) != 1:
        abort(400, "send one image file in the field named file")
    data = files[0].file.read(limit + 1)
    if len(data) > limit:
        abort(413, f"the image is over {limit} bytes")
    if len(labels) > 1:
        abort(400, "send at most one key")
    label = labels[0] if labels else ""
    if len(label.encode("utf-8")) > LABEL_MAX_BYTES or any(ord(c) < 32 or 127 <= ord(c) < 160 for c in label):
        abort(400, f"key must be at most {LABEL_MAX_BYTES} bytes of text without control characters")
    return data, label


def stored_url(name: str, data: bytes, label: str) -> str:
    """Leave the bytes in Redis for a worker, have it store them, and wait for it within the configured bound."""
    wait = settings().image_wait_seconds
    store().uploads.put(name, data)
    result = None
    try:
        result = celery().tasks[STORE_IMAGE].delay(name, label)
        return result.get(timeout=wait)
    except TaskTimeout:
        abort(504, f"the image was not stored within {wait:g} s; try again")
    except StorageFailed:
        abort(502, "the image store is failing; try again later")
    finally:
        if result is not None:
            result.forget()  # the URL is in hand (or given up on): do not keep it in Redis for an hour


def upload_image():
    """POST /v1/image: 200 {url} once a worker stored the image; 400, 401, 413, 415, 429, 502, 504."""
    user = current_user()
    count, window = settings().upload_rate
    try:
        store().limiter.hit(f"upload:{user}", count, window)
    except RateLimited as limited:
        raise HTTPError(
            429, f"too many uploads; retry after {limited.retry_after} s", **{"Retry-After": str(limited.retry_after)}
        ) from None
    data, label = read_upload(settings().image_max_bytes)
    name = image_name(data)
    if name is None:
        abort(415, "the file is not a PNG, JPEG, GIF or WebP image")
    url = stored_url(name, data, label)
    store().activity.record(user, "upload", url)
    return {"url": url}


def media_file(name):
    """GET /media/<name>: an image of the embedded default's folder; 404 for every other path."""
    folder = images()
    path = folder.find(name) if isinstance(folder, FolderImages) else None
    if path is None:
        abort(404, "no such image")
    answer = static_file(path.name, root=str(path.parent), mimetype=CONTENT_TYPES[path.suffix[1:]])
    answer.set_header("Cache-Control", CACHE_CONTROL)
    answer.set_header("X-Content-Type-Options", "nosniff")  # served from our origin: never as anything else
    return answer


def register(app) -> None:
    """Register the images routes."""
    app.post("/v1/image", callback=upload_image)
    app.get("/media/<name:path>", callback=media_file)
