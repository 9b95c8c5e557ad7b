"""Celery tasks of the intake: thin adapters around services (names pinned in tests/test_task_names.py)."""

from __future__ import annotations

from celery import shared_task

from tickets.intake.services import routing_batch


@shared_task(name="tickets.routing_run")  # type: ignore[misc]
def routing_run() -> int:
    """A routing worker's wake-up (after an intake's commit, and every few seconds from beat): route
    the queue in batches until it is empty. Killed mid-batch, the batch's transaction rolls back and
    its tickets wait in the queue for the next wake-up; no acks_late needed."""
    return routing_batch.routing_run()
