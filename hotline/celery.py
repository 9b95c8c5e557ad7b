"""The Celery app.

With REDIS_URL set, tasks go through Redis to real workers and beat. Without it (the embedded
default) tasks run in-process (task_always_eager) and `hotline.embedded_scheduler` plays beat.
"""

import gc
import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")

app = Celery("hotline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _freeze_loaded(**_kwargs: object) -> None:
    """A pool process starts with Django and the task modules loaded (~180,000 objects): frozen out
    of the garbage collector's full passes, as in the web workers (hotline/warmup.py), so a pass
    no longer stops a routing batch for ~100 ms to walk them."""
    gc.collect()
    gc.freeze()
