"""Celery tasks of the intake: thin adapters around services (names pinned in tests/test_task_names.py)."""

from __future__ import annotations

from celery import shared_task

from tickets.intake.services import idempotency, routing_batch


@shared_task(name="tickets.routing_run")  # type: ignore[misc]
def routing_run() -> int:
    """A routing worker's wake-up (after an intake's commit, and every few seconds from beat): route
    the queue in batches until it is empty. Killed mid-batch, the batch's transaction rolls back and
    its tickets wait in the queue for the next wake-up; no acks_late needed."""
    return routing_batch.routing_run()


@shared_task(name="tickets.tasks.idempotency_purge")  # type: ignore[misc]
def idempotency_purge() -> int:
    """Daily: drop Idempotency-Key and console form records past their keeping time."""
    return idempotency.idempotency_purge()
