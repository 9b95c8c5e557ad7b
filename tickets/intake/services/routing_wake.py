"""Wake the routing worker after an intake commits: one Celery message per process per few ms.

Each intake's `on_commit` asks for a wake-up; the first starts a timer of ROUTING_WAKE_DELAY and the
others accepted before it fires ride along. The message is sent after each of their commits, so the
worker's run sees them all. A failed send (Redis down) only delays them: the rows wait in the
database's routing queue for beat's periodic run.
"""

from __future__ import annotations

import logging
import threading

from celery import current_app
from django.conf import settings

log = logging.getLogger("tickets.routing")

_lock = threading.Lock()
_armed = False


def routing_wake() -> None:
    """After commit: make sure a wake-up is sent within ROUTING_WAKE_DELAY."""
    global _armed
    with _lock:
        if _armed:
            return
        _armed = True
    timer = threading.Timer(settings.ROUTING_WAKE_DELAY, _send)
    timer.daemon = True
    timer.start()


def _send() -> None:
    global _armed
    with _lock:
        _armed = False  # an intake committing from now on arms a new timer
    try:
        current_app.send_task("tickets.routing_run")
    except Exception as exc:  # broker down: beat's periodic run routes the queue once it is back
        log.warning("routing wake-up not sent (%s: %s); the periodic run will route the queue", type(exc).__name__, exc)
