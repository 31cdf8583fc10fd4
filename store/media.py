"""Images: the type from the bytes, a name from the content, and the two places they are kept (S3 or a folder)."""

import hashlib
import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as S3ConnectionError

from store.errors import StoreError

CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}
CACHE_CONTROL = "public, max-age=31536000, immutable"  # a name is a hash of the content: it never changes
NAME = re.compile(r"images/[0-9a-f]{64}\.(?:png|jpg|gif|webp)")
THROTTLED = {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "RequestTimeTooSkewed"}


class StorageFailed(StoreError):
    """The image could not be stored."""


class StorageBusy(StorageFailed):
    """The image store failed in a way that may pass (no connection, a timeout, a 5xx): try again."""


def image_type(data: bytes) -> str | None:
    """The extension for PNG, JPEG, GIF or WebP bytes, judged by their signatures; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def image_name(data: bytes) -> str | None:
    """`images/<sha256>.<ext>` (the same bytes always get the same name); None when they are not an image."""
    kind = image_type(data)
    return f"images/{hashlib.sha256(data).hexdigest()}.{kind}" if kind else None


class ImageStore(Protocol):
    """Where images are kept, under their names."""

    def has(self, name: str) -> bool: ...

    def write(self, name: str, data: bytes, label: str) -> None:
        """Keep the image (`label` as metadata where the store has any)."""

    def url(self, name: str) -> str: ...


class S3Images:
    """An S3 bucket; boto3 reads the credentials and region from AWS_* itself."""

    def __init__(self, bucket: str, endpoint_url: str | None = None, public_url: str | None = None):
        self.bucket = bucket
        self.public_url = (public_url or f"https://{bucket}.s3.amazonaws.com").rstrip("/")
        # Short timeouts and no botocore retries: the task retries with backoff inside the route's wait.
        config = Config(
            s3={"addressing_style": "path"},
            connect_timeout=2,
            read_timeout=5,
            retries={"total_max_attempts": 1, "mode": "standard"},
        )
        self.client = boto3.session.Session().client("s3", endpoint_url=endpoint_url, config=config)

    def url(self, name: str) -> str:
        return f"{self.public_url}/{name}"

    def has(self, name: str) -> bool:
        with _s3_errors():
            try:
                self.client.head_object(Bucket=self.bucket, Key=name)
            except ClientError as exc:
                # 403 is what S3 answers for a missing key when we may not list the bucket.
                if _status(exc) in (403, 404):
                    return False
                raise
        return True

    def write(self, name: str, data: bytes, label: str) -> None:
        with _s3_errors():
            self.client.put_object(
                Bucket=self.bucket,
                Key=name,
                Body=data,
                ContentType=CONTENT_TYPES[name.rsplit(".", 1)[1]],
                CacheControl=CACHE_CONTROL,
                Metadata={"key": quote(label)} if label else {},
            )


def _status(exc: ClientError) -> int:
    return exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)


@contextmanager
def _s3_errors():
    """S3's failures as ours: busy when trying again may help (no connection, timeouts, 5xx, throttling)."""
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        busy = _status(exc) >= 500 or code in THROTTLED
        raise (StorageBusy if busy else StorageFailed)(f"S3 answered {_status(exc)} {code}") from exc
    except (S3ConnectionError, HTTPClientError) as exc:
        raise StorageBusy(f"S3 is not answering: {exc}") from exc


class FolderImages:
    """A folder on this machine (the embedded default), served by the app under /media/."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def url(self, name: str) -> str:
        return f"/media/{name}"

    def has(self, name: str) -> bool:
        return (self.root / name).is_file()

    def write(self, name: str, data: bytes, label: str) -> None:
        """Write a temporary file and rename it: readers see the whole image or nothing."""
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())  # a crash must not leave a short file under a name never rewritten
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def find(self, name: str) -> Path | None:
        """The stored file for a URL's name; None for any name that is not an image inside this folder."""
        if not NAME.fullmatch(name):
            return None
        root = self.root.resolve()
        path = (root / name).resolve()  # follows symlinks, so one pointing outside is refused below
        return path if path.is_relative_to(root) and path.is_file() else None
