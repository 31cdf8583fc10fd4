"""Entry point for `celery -A tasks.worker worker`: the Celery app built from the environment."""

from settings import from_env
from tasks import make_celery

app = make_celery(from_env())
