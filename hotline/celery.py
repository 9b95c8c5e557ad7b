"""The Celery app.

With REDIS_URL set, tasks go through Redis to real workers and beat. Without it (the embedded
default) tasks run in-process (task_always_eager) and `hotline.embedded_scheduler` plays beat.
"""

import gc
import os

from celery import Celery
from celery.fixups.django import DjangoFixup, DjangoWorkerFixup
from celery.signals import worker_init, worker_process_init
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")

app = Celery("hotline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class _TaskAsRequest(DjangoWorkerFixup):
    """Celery's Django fixup, with a task's database connection handled as Django handles a request's.

    Before and after every task Celery 5.7's fixup closes the connections and, in a prefork pool with
    Django's connection pool, closes the whole pool (`celery/fixups/django.py`, `_close_database`):
    every task then opened a new PostgreSQL connection, a backend started for each routing wake-up
    and SMS send. A wake-up that found nothing to do cost 4.8 ms of the worker's CPU and 8.5 ms of
    PostgreSQL's (a backend started and ended); with this, 2.7 and 0.3 ms (medians,
    `bench/intake/wake_cost.py`; bench/intake/README.md, session 23). Here a task ends as a request does
    (`close_old_connections`): the connection goes back to the process's pool, and one that failed
    or is unusable is dropped, so a PostgreSQL restart heals at the next task
    (tests/drills/test_routing_workers.py). A new pool process still closes what it inherited from
    its parent (`on_worker_process_init`, unchanged)."""

    def close_database(self, **_kwargs: object) -> None:
        close_old_connections()


for _fixup in app._fixups:  # the Django fixup Celery installed for this app (one per app)
    if isinstance(_fixup, DjangoFixup):
        _fixup.worker_fixup = _TaskAsRequest(app)


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
