"""The Celery app.

With REDIS_URL set, tasks go through Redis to real workers and beat. Without it (the embedded
default) tasks run in-process (task_always_eager) and `hotline.embedded_scheduler` plays beat.
"""

import gc
import os

from celery import Celery
from celery.signals import worker_init, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")

app = Celery("hotline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _warm_up_before_forking(**_kwargs: object) -> None:
    """The worker's main process loads what a routing batch needs (the classifier's model, jieba's
    dictionary, the task modules: `hotline.warmup`, as for the web) before it forks its pool. Each
    pool process used to load its own copy on its first batch; now they start with one copy in
    pages they share (a 2-process pool: ~40 MB less PSS after a batch, and the first batch after a
    start 0.13 s instead of 0.22 s; bench/intake/README.md, session 20)."""
    from hotline.warmup import warm_up  # imports this module's app: here, not at the top

    warm_up()


@worker_process_init.connect
def _freeze_loaded(**_kwargs: object) -> None:
    """A pool process starts with Django and the task modules loaded (~180,000 objects): frozen out
    of the garbage collector's full passes, as in the web workers (hotline/warmup.py), so a pass
    no longer stops a routing batch for ~100 ms to walk them."""
    gc.collect()
    gc.freeze()
