"""Image storage: a worker copies an upload from Redis into S3 (or DATA_DIR/media) under its content's name."""

import time

from celery.utils.log import get_task_logger

from settings import Settings
from store.media import FolderImages, ImageStore, S3Images, StorageBusy, StorageFailed
from store.uploads import KEEP_SECONDS, Uploads

STORE_IMAGE = "chat.store_image"
RETRIES = 3
BACKOFF_SECONDS = 0.5  # waits of 0.5, 1 and 2 s: four tries fit well inside the route's 15 s wait

logger = get_task_logger(__name__)


def build_image_store(settings: Settings) -> ImageStore:
    """Where the settings say images go: S3 when a bucket is configured, else DATA_DIR/media."""
    if settings.s3_bucket:
        return S3Images(settings.s3_bucket, settings.s3_endpoint_url, settings.s3_public_url)
    return FolderImages(settings.data_dir / "media")


def copy_upload(images: ImageStore, uploads: Uploads, name: str, label: str) -> None:
    """Write the waiting upload `name` unless the store has it already (a second run, a duplicate)."""
    if images.has(name):
        return
    data = uploads.get(name)
    if data is not None:
        images.write(name, data, label)
    elif not images.has(name):  # a duplicate's task may have stored it and dropped the bytes meanwhile
        raise StorageFailed(f"the bytes of {name} are gone (they wait {KEEP_SECONDS} s)")


def store_image(task, name: str, label: str = "") -> str:
    """Store the upload waiting under `name`, trying again with backoff while S3 is busy; return its URL."""
    images, uploads = task.app.chat_images, task.app.chat_store.uploads
    try:
        # Retries in the task rather than with task.retry(): the same in a worker and in the embedded
        # default's eager mode, where a retry would propagate as an error.
        for attempt in range(RETRIES + 1):
            try:
                copy_upload(images, uploads, name, label)
                return images.url(name)
            except StorageBusy as exc:
                if attempt == RETRIES:
                    raise
                wait = BACKOFF_SECONDS * 2**attempt
                logger.warning("storing %s: %s; try %d of %d in %g s", name, exc, attempt + 2, RETRIES + 1, wait)
                time.sleep(wait)
    finally:
        uploads.drop(name)  # done for good, stored or not: free the memory now, not at expiry


def register(app) -> None:
    """Register the image tasks on a Celery app."""
    app.task(name=STORE_IMAGE, bind=True)(store_image)
