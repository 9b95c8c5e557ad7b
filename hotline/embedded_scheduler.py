"""Beat for the embedded default: runs CELERY_BEAT_SCHEDULE in a daemon thread of the web server.

Production runs `celery beat`; a new user's single command gets the same periodic work
(deadline scanner, retraining) without starting anything else. Tasks run eagerly here.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta
from typing import Any

from celery.schedules import BaseSchedule, schedule
from django.conf import settings
from django.utils import timezone

from hotline.celery import app

log = logging.getLogger("hotline.scheduler")
_started = threading.Event()


def _as_schedule(spec: Any) -> BaseSchedule:
    if isinstance(spec, BaseSchedule):  # schedule, crontab, solar
        return spec
    seconds = spec.total_seconds() if isinstance(spec, timedelta) else float(spec)
    return schedule(run_every=timedelta(seconds=seconds))


def run_due(last_run: dict[str, datetime]) -> list[str]:
    """Run every entry whose schedule is due; returns the names that ran."""
    # A worker imports CELERY_IMPORTS and the apps' tasks modules at start; this process must too,
    # or app.tasks would not know the scheduled tasks (idempotent, cheap after the first call).
    app.loader.import_default_modules()
    ran = []
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        spec = _as_schedule(entry["schedule"])
        previous = last_run.get(name)
        if previous is None and not isinstance(spec, schedule):
            # A wall-clock entry (crontab: nightly retraining, the 07:30 hot-spot report) waits for
            # its time, as `celery beat` does; interval entries run once at start.
            last_run[name] = timezone.now()
            continue
        if previous is not None and not spec.is_due(previous).is_due:
            continue
        last_run[name] = timezone.now()
        ran.append(name)
        try:
            app.tasks[str(entry["task"])].apply(args=entry.get("args", ()), kwargs=entry.get("kwargs", {}))
        except Exception:  # a failing job must not stop the others
            log.exception("embedded scheduler: %s failed", name)
    return ran


def _loop() -> None:
    last_run: dict[str, datetime] = {}
    while True:
        try:
            run_due(last_run)
        except Exception:  # the thread must outlive any one bad tick, or no deadline is ever scanned again
            log.exception("embedded scheduler: tick failed")
        time.sleep(5)


def scheduler_start() -> None:
    if _started.is_set():
        return
    _started.set()
    threading.Thread(target=_loop, name="embedded-beat", daemon=True).start()
    log.info("embedded scheduler started with %d entries", len(settings.CELERY_BEAT_SCHEDULE))
