"""Image storage: a worker keeps an upload's bytes under a name derived from them, in S3 or DATA_DIR/media."""
import functools

from settings import Settings
from store.media import FolderImages, ImageStore, S3Images, StorageBusy

STORE_IMAGE = "chat.store_image"
RETRIES = 3
BACKOFF_SECONDS = 0.5  # waits of 0.5, 1 and 2 s: four tries fit well inside the route's 15 s wait


@functools.cache
def image_store(settings: Settings) -> ImageStore:
    """The settings' image store, built once per process (a boto3 client is slow to build, safe to share)."""
    if settings.s3_bucket:
        return S3Images(settings.s3_bucket, settings.s3_endpoint_url, settings.s3_public_url)
    return FolderImages(settings.data_dir / "media")


def store_image(task, data: bytes, label: str = "") -> str:
    """Keep the image (once: a second run or a duplicate finds it there); return its URL."""
    try:
        return image_store(task.app.chat_settings).save(data, label)
    except StorageBusy as exc:
        # After the last try, retry() raises exc itself: the caller sees StorageBusy.
        raise task.retry(exc=exc, countdown=BACKOFF_SECONDS * 2 ** task.request.retries)


def register(app) -> None:
    """Register the image tasks on a Celery app."""
    app.task(name=STORE_IMAGE, bind=True, max_retries=RETRIES)(store_image)
