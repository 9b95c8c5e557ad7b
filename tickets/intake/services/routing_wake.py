"""Wake the routing worker after an intake commits: one Celery message per process per few ms.

Each intake's `on_commit` asks for a wake-up; the process's sender thread waits ROUTING_WAKE_DELAY
after the first ask and then sends one message for every intake that asked meanwhile. The message
is sent after each of their commits, so the worker's run sees them all. A failed send (Redis down)
only delays them: the rows wait in the database's routing queue for beat's periodic run.

One long-lived sender per process, not a timer thread per wake-up: Celery keeps its result backend
and its broker connection per thread, so a new thread built both again for every message (py-spy at
C=32: `send_task` 7.1 % of the web workers' time with a thread per message, 4.2 % with one sender;
bench/intake/README.md, session 18).
"""

from __future__ import annotations

import logging
import os
import threading
import time

from celery import current_app
from django.conf import settings

log = logging.getLogger("tickets.routing")

_asked = threading.Event()  # an intake committed since the last message was sent
_lock = threading.Lock()
_sender: threading.Thread | None = None


def _after_fork_in_child() -> None:
    # A fork may copy these locked by the parent's sender; the child starts its own sender anyway.
    global _asked, _lock, _sender
    _asked, _lock, _sender = threading.Event(), threading.Lock(), None


os.register_at_fork(after_in_child=_after_fork_in_child)


def routing_wake() -> None:
    """After commit: make sure a wake-up is sent within ROUTING_WAKE_DELAY."""
    _asked.set()
    _sender_running()


def _sender_running() -> None:
    global _sender
    if _sender is not None and _sender.is_alive():
        return
    with _lock:
        if _sender is not None and _sender.is_alive():
            return
        _sender = threading.Thread(target=_send_forever, name="routing-wake", daemon=True)
        _sender.start()


def _send_forever() -> None:
    while True:
        _asked.wait()
        # Intakes asking during the delay ride along; the delay is read each time (tests set it).
        time.sleep(settings.ROUTING_WAKE_DELAY)
        _asked.clear()  # an intake committing from now on asks for the next message
        _send()


def _send() -> None:
    try:
        current_app.send_task("tickets.routing_run")
    except Exception as exc:  # broker down: beat's periodic run routes the queue once it is back
        log.warning("routing wake-up not sent (%s: %s); the periodic run will route the queue", type(exc).__name__, exc)
