"""POST /v1/image and GET /media/...: real Redis, a real Celery worker process, a real moto S3 endpoint."""

import hashlib
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from urllib.parse import quote

import pymongo
import pytest
import redis
import webtest

from scripts.sample_images import SAMPLES, png
from scripts.servers import S3, Worker
from settings import Settings
from store.embedded import free_port
from tasks.images import BACKOFF_SECONDS, RETRIES
from tests.helpers import BUCKET, TEST_DB, StallingS3, s3_client, upload, with_s3


@pytest.fixture(autouse=True)
def aws_env(monkeypatch):
    """Credentials for boto3 in this process (the worker gets the same from service_env)."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)


def post_raw(client, body: bytes, content_type: str, status: int, chunked: bool = False):
    """POST these exact bytes (webtest rewrites multipart bodies it is given); chunked: with no Content-Length."""
    headers = {"Content-Type": content_type, **({"Transfer-Encoding": "chunked"} if chunked else {})}
    request = webtest.TestRequest.blank("/v1/image", method="POST", body=body, headers=headers)
    if chunked:
        del request.environ["CONTENT_LENGTH"]
    return client.do_request(request, status=status)


def fetch(url: str):
    """The body and the (case-insensitive) headers at a URL."""
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read(), answer.headers


def object_names(client) -> list[str]:
    return [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def image_url(base: str, data: bytes, ext: str) -> str:
    return f"{base}/images/{hashlib.sha256(data).hexdigest()}.{ext}"


def activity(settings) -> list[dict]:
    with pymongo.MongoClient(settings.mongodb_uri) as client:
        return list(client[TEST_DB].activity.find({"act": "upload"}, {"_id": 0, "u": 1, "m": 1}))


def waiting_uploads(settings) -> dict[str, int]:
    """Upload bytes left in Redis for a worker, with the seconds they have left."""
    client = redis.Redis.from_url(settings.redis_url)
    return {key.decode(): client.ttl(key) for key in client.scan_iter("chat:upload:*")}


def assert_error_page(res, status: int) -> None:
    assert res.status_int == status
    assert res.content_type == "text/html"
    assert f"<h1>{status} " in res.text


@pytest.fixture
def bucket(s3_server):
    """The session's moto S3, emptied, with the images bucket."""
    s3_server.reset()
    client = s3_client(s3_server.url)
    s3_server.create_public_bucket(BUCKET)
    return client


@pytest.fixture(scope="class")
def s3_worker(mongo_server, redis_server, s3_server, tmp_path_factory):
    """One worker for a class of tests; its settings match each test's but for data_dir, unused with S3."""
    worker = Worker(
        with_s3(
            Settings(
                mongodb_uri=mongo_server.uri(TEST_DB),
                redis_url=redis_server.url,
                data_dir=tmp_path_factory.mktemp("worker"),
            ),
            s3_server.url,
            s3_server.url,
        )
    )
    yield worker
    worker.stop()


class TestThroughS3:
    """The happy paths through a real worker process to moto S3."""

    @pytest.fixture
    def s3_app(self, s3_worker, bucket, settings, s3_server, make_app):
        return make_app(with_s3(settings, s3_server.url, s3_server.url))

    @pytest.mark.parametrize("ext", SAMPLES)
    def test_each_format_round_trips(self, ext, s3_app, s3_server, bucket, new_user, settings):
        data, content_type = SAMPLES[ext]
        user = new_user(app=s3_app)
        res = upload(user, data, f"my photo.{ext}", key=f"my photo ü.{ext}")
        url = image_url(f"{s3_server.url}/{BUCKET}", data, ext)
        assert res.json == {"url": url}
        assert res.headers["Cache-Control"] == "no-store"
        body, headers = fetch(url)
        assert body == data
        assert headers["Content-Type"] == content_type
        assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
        stored = bucket.head_object(Bucket=BUCKET, Key=url.split(f"/{BUCKET}/", 1)[1])
        assert stored["Metadata"] == {"key": quote(f"my photo ü.{ext}")}
        assert activity(settings) == [{"u": user.user, "m": url}]
        assert waiting_uploads(settings) == {}  # the worker dropped the bytes once they were stored

    def test_the_type_comes_from_the_bytes_not_the_name(self, s3_app, new_user):
        data = png(seed=3)
        res = upload(new_user(app=s3_app), data, "notes.gif")
        assert res.json["url"].endswith(".png")
        assert fetch(res.json["url"])[1]["Content-Type"] == "image/png"

    def test_the_same_image_twice_is_one_object(self, s3_app, bucket, new_user):
        data = png(seed=4)
        first = upload(new_user(app=s3_app), data, key="first").json
        second = upload(new_user(app=s3_app), data, key="second").json
        assert first == second
        assert object_names(bucket) == [first["url"].split(f"/{BUCKET}/", 1)[1]]
        # The second upload found the object and wrote nothing: the first label stands.
        assert bucket.head_object(Bucket=BUCKET, Key=object_names(bucket)[0])["Metadata"] == {"key": "first"}

    def test_concurrent_uploads_from_many_threads_all_arrive(self, s3_app, bucket, new_user):
        users = [new_user(app=s3_app) for _ in range(8)]
        images = [png(seed=100 + i) for i in range(8)]
        with ThreadPoolExecutor(8) as pool:
            urls = list(pool.map(lambda pair: upload(*pair).json["url"], zip(users, images, strict=True)))
        assert [fetch(url)[0] for url in urls] == images
        assert len(object_names(bucket)) == 8


# Refusals: each is decided before any task is sent, so no worker is needed.


@pytest.mark.parametrize(
    "data, filename",
    [
        (b"just some text, honestly\n", "photo.png"),
        (b"", "empty.png"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "drawing.svg"),
        (b"%PDF-1.7\n", "photo.jpg"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "sound.webp"),
        (b"\x89PNG\r\n", "cut.png"),
        (b"GIF90a", "odd.gif"),
    ],
)
def test_anything_but_the_four_image_types_is_415(new_user, data, filename):
    res = upload(new_user(), data, filename, status=415)
    assert_error_page(res, 415)
    assert "not a PNG, JPEG, GIF or WebP image" in res.text


def test_the_declared_type_does_not_matter(new_user):
    res = new_user().post("/v1/image", upload_files=[("file", "photo.png", b"plain text", "image/png")], status=415)
    assert_error_page(res, 415)


@pytest.fixture
def small_limit_user(make_app, memory_settings, new_user):
    """A user of an embedded app (eager tasks, images on disk) that takes images up to 1000 bytes."""
    return new_user(app=make_app(replace(memory_settings, image_max_bytes=1000)))


def test_an_image_of_exactly_the_limit_is_taken_and_one_byte_more_is_413(small_limit_user):
    upload(small_limit_user, png(seed=1, size=1000))
    res = upload(small_limit_user, png(seed=2, size=1001), status=413)
    assert_error_page(res, 413)
    assert "over 1000 bytes" in res.text


def test_a_body_over_the_limit_is_refused_before_it_is_read(small_limit_user):
    small_limit_user.post("/v1/image", upload_files=[("file", "big.png", png(size=1000 + 65 * 1024))], status=413)


def chunked(body: bytes, size: int = 4096) -> bytes:
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"


@pytest.mark.parametrize("size, status", [(1000, 200), (1000 + 64 * 1024, 413), (10 * 1024 * 1024, 413)])
def test_a_body_of_unknown_length_is_read_only_up_to_the_limit(small_limit_user, size, status):
    content_type, body = small_limit_user.encode_multipart([], [("file", "photo.png", png(seed=size, size=size))])
    res = post_raw(small_limit_user, chunked(body), content_type, status, chunked=True)
    if status == 413:
        assert_error_page(res, 413)


BOUNDARY = "xYzZY"


def multipart(*parts: bytes) -> bytes:
    return b"".join(b"--" + BOUNDARY.encode() + b"\r\n" + part + b"\r\n" for part in parts) + b"--xYzZY--\r\n"


FILE_HEAD = b'Content-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n'


@pytest.mark.parametrize(
    "content_type, body",
    [
        (
            f"multipart/form-data; boundary={BOUNDARY}",
            multipart(b'Content-Disposition: form-data; name="key"\r\n\r\nx'),
        ),
        (
            f"multipart/form-data; boundary={BOUNDARY}",
            multipart(b'Content-Disposition: form-data; name="file"\r\n\r\nx'),
        ),
        (f"multipart/form-data; boundary={BOUNDARY}", multipart(FILE_HEAD + b"\x89PNG", FILE_HEAD + b"\x89PNG")),
        (f"multipart/form-data; boundary={BOUNDARY}", b"--xYzZY--\r\n"),
        ("application/x-www-form-urlencoded", b"file=%89PNG"),
        ("application/json", b'{"file": "iVBORw0KGgo="}'),
        ("image/png", png()),
    ],
    ids=["only-a-key", "file-not-a-file-part", "two-files", "no-parts", "urlencoded", "json", "bare-image"],
)
def test_no_file_is_400(new_user, content_type, body):
    res = post_raw(new_user(), body, content_type, 400)
    assert_error_page(res, 400)


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("multipart/form-data", multipart(FILE_HEAD + png())),
        (f"multipart/form-data; boundary={BOUNDARY}", b"no boundary anywhere in here"),
        (f"multipart/form-data; boundary={BOUNDARY}", b"--xYzZY\r\n" + FILE_HEAD + png()),
        (f"multipart/form-data; boundary={BOUNDARY}", multipart(b"Content-Disposition form-data\r\n\r\nx")),
        (f"multipart/form-data; boundary={BOUNDARY}", multipart(b"Content-Type: image/png\r\n\r\nx")),
        (
            f"multipart/form-data; boundary={BOUNDARY}",
            multipart(FILE_HEAD.replace(b"\r\n\r\n", b"\r\nContent-Length: lots\r\n\r\n") + png()),
        ),
        (f"multipart/form-data; boundary={BOUNDARY}; charset=no-such-charset", multipart(FILE_HEAD + png())),
        (
            f"multipart/form-data; boundary={BOUNDARY}",
            multipart(b'Content-Disposition: form-data; name="key"\r\n\r\n\xff\xfe'),
        ),
    ],
    ids=[
        "no-boundary-parameter",
        "no-boundary",
        "truncated",
        "header-without-colon",
        "no-disposition",
        "bad-part-length",
        "unknown-charset",
        "key-not-utf8",
    ],
)
def test_a_malformed_form_is_400(new_user, content_type, body):
    res = post_raw(new_user(), body, content_type, 400)
    assert_error_page(res, 400)


@pytest.mark.parametrize(
    "key", ["line\r\nX-Amz-Meta-Evil: 1", "tab\tseparated", "nul\x00", "del\x7f", "c1\x85", "é" * 128]
)
def test_a_key_with_control_characters_or_over_255_bytes_is_400(new_user, key):
    res = upload(new_user(), png(), key=key, status=400)
    assert_error_page(res, 400)


def test_two_keys_are_400(new_user):
    res = new_user().post(
        "/v1/image", [("key", "a"), ("key", "b")], upload_files=[("file", "a.png", png())], status=400
    )
    assert_error_page(res, 400)


def test_anonymous_is_401(client):
    res = upload(client, png(), status=401)
    assert res.json == {"error": "log in first"}


def test_uploads_are_rate_limited_per_user(make_app, memory_settings, new_user):
    app = make_app(replace(memory_settings, upload_rate=(2, 60)))
    user = new_user(app=app)
    upload(user, png(seed=1))
    upload(user, png(seed=2))
    res = upload(user, png(seed=3), status=429)
    assert_error_page(res, 429)
    assert 0 < int(res.headers["Retry-After"]) <= 60
    upload(new_user(app=app), png(seed=3))  # another user is not held back


# The embedded default: the same task writes under DATA_DIR/media and the app serves it.


@pytest.fixture
def embedded_user(make_app, memory_settings, new_user):
    return new_user(app=make_app(memory_settings))


@pytest.mark.parametrize("ext", SAMPLES)
def test_embedded_images_round_trip_through_media(embedded_user, memory_settings, ext):
    data, content_type = SAMPLES[ext]
    url = upload(embedded_user, data, f"a.{ext}").json["url"]
    assert url == image_url("/media", data, ext)
    res = embedded_user.get(url)
    assert res.body == data
    assert res.headers["Content-Type"] == content_type
    assert res.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert res.headers["X-Content-Type-Options"] == "nosniff"
    assert webtest.TestApp(embedded_user.app).get(url).body == data  # public, like an S3 URL
    stored = memory_settings.data_dir / "media" / url.removeprefix("/media/")
    assert stored.read_bytes() == data
    assert [p.name for p in stored.parent.iterdir()] == [stored.name]  # no temporary file left behind
    assert activity(memory_settings) == [{"u": embedded_user.user, "m": url}]


def test_embedded_duplicate_gives_the_same_url(embedded_user):
    data = png(seed=9)
    assert upload(embedded_user, data).json == upload(embedded_user, data, "again.png").json


@pytest.fixture
def secret(memory_settings):
    """A file beside the media folder that must never be served."""
    path = memory_settings.data_dir / "secret.png"
    path.write_bytes(png(seed=666))
    return path


NAME = "0" * 64


@pytest.mark.parametrize(
    "path",
    [
        "/media/../secret.png",
        "/media/%2e%2e/secret.png",
        "/media/images/%2e%2e%2f%2e%2e%2fsecret.png",
        "/media/images/..%2f..%2fsecret.png",
        "/media//etc/passwd",
        "/media/%2fetc%2fpasswd",
        "/media/images/../../secret.png",
        f"/media/images/{NAME}.png/../../../secret.png",
        f"/media/images/{NAME.upper()}.png",
        f"/media/images/{NAME}.svg",
        f"/media/images/{NAME}.png",  # well formed, but no such image
        "/media/images/.upload-abc",
        "/media/",
    ],
)
def test_media_serves_nothing_outside_its_folder(embedded_user, secret, path):
    res = embedded_user.get(path, status=404, expect_errors=True)
    assert secret.read_bytes() not in res.body


def test_media_does_not_follow_a_symlink_out_of_its_folder(embedded_user, memory_settings, secret):
    images = memory_settings.data_dir / "media" / "images"
    images.mkdir(parents=True)
    (images / f"{NAME}.png").symlink_to(secret)
    embedded_user.get(f"/media/images/{NAME}.png", status=404)


def test_media_is_off_when_images_go_to_s3(make_app, settings, s3_server, new_user):
    app = make_app(with_s3(settings, s3_server.url, s3_server.url))
    path = settings.data_dir / "media" / "images" / f"{NAME}.png"
    path.parent.mkdir(parents=True)
    path.write_bytes(png())
    new_user(app=app).get(f"/media/images/{NAME}.png", status=404)


# Faults: no worker, S3 down, a worker killed mid-upload.


def test_no_worker_gives_504_within_the_bound(make_app, settings, new_user):
    user = new_user(app=make_app(replace(settings, image_wait_seconds=2)))
    started = time.monotonic()
    res = upload(user, png(), status=504)
    assert 2 <= time.monotonic() - started < 4.5  # the bound, plus slack for a loaded machine
    assert_error_page(res, 504)
    # The task stays queued; its bytes wait for a worker for an hour.
    name = image_url("", png(), "png").removeprefix("/")
    assert list(waiting_uploads(settings)) == [f"chat:upload:{name}"]
    assert 3500 < waiting_uploads(settings)[f"chat:upload:{name}"] <= 3600


def test_s3_down_is_retried_then_502_and_the_next_upload_after_it_returns_works(make_app, settings, new_user, tmp_path):
    s3 = S3()  # our own, so stopping it does not disturb the session's
    log = tmp_path / "worker.log"
    worker = None
    try:
        s3.create_public_bucket(BUCKET)
        cfg = with_s3(settings, s3.url, s3.url)
        app = make_app(cfg)
        user, health = new_user(app=app), webtest.TestApp(app)
        worker = Worker(cfg, log_path=log)
        s3.stop()
        started = time.monotonic()
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(upload, user, png(seed=5), status=502)
            while not pending.done():  # the service keeps answering while the upload waits
                assert health.get("/healthz").json == {"mongo": "ok", "redis": "ok"}
                time.sleep(0.2)
            res = pending.result()
        assert time.monotonic() - started >= BACKOFF_SECONDS * (2**RETRIES - 1)
        assert log.read_text().count(f" of {RETRIES + 1} in ") == RETRIES  # the task's "try 2 of 4 in 0.5 s"
        assert_error_page(res, 502)
        assert waiting_uploads(settings) == {}  # given up: the bytes are not kept

        s3.start()
        s3.create_public_bucket(BUCKET)  # moto keeps nothing across a restart
        url = upload(user, png(seed=5)).json["url"]
        assert fetch(url)[0] == png(seed=5)
    finally:
        if worker:
            worker.stop()
        s3.stop()


def test_s3_down_without_redis_retries_in_process_then_502(make_app, memory_settings, new_user):
    """S3 with no REDIS_URL: the task runs in the web process (eager) and retries the same way."""
    user = new_user(app=make_app(with_s3(memory_settings, f"http://127.0.0.1:{free_port()}", "http://cdn")))
    started = time.monotonic()
    assert_error_page(upload(user, png(), status=502), 502)
    assert time.monotonic() - started >= BACKOFF_SECONDS * (2**RETRIES - 1)
    assert user.app.config["chat.store"].uploads.get(image_url("", png(), "png").removeprefix("/")) is None


def test_a_worker_killed_mid_upload_and_restarted_completes_it(
    make_app, settings, s3_server, bucket, new_user, tmp_path
):
    stalling = StallingS3(s3_server.port)
    # A short visibility timeout: the broker hands an unacknowledged task out again 2 s after delivery.
    cfg = replace(with_s3(settings, stalling.url, s3_server.url), broker_visibility_timeout=2, image_wait_seconds=30)
    user = new_user(app=make_app(cfg))
    worker = Worker(cfg, log_path=tmp_path / "worker.log")
    data, answers = png(seed=8), []
    thread = threading.Thread(target=lambda: answers.append(upload(user, data)))
    try:
        thread.start()
        assert stalling.stalled.wait(15), "the worker never began the upload"
        worker.stop(kill=True)  # SIGKILL; its pool processes die with it (Celery sets PDEATHSIG)
        stalling.released.set()
        assert object_names(bucket) == []
        time.sleep(cfg.broker_visibility_timeout + 0.5)
        worker.start()
        thread.join(30)
    finally:
        worker.stop()
        stalling.close()
    assert answers, "the upload did not finish after the restart"
    url = answers[0].json["url"]
    assert url == image_url(f"{s3_server.url}/{BUCKET}", data, "png")
    assert fetch(url)[0] == data
