"""Thin Celery tasks of the live feed."""

from __future__ import annotations

from celery import shared_task

from channels_app.broadcast import outbox_flush


@shared_task(name="channels_app.tasks.live_outbox_flush", ignore_result=True)
def live_outbox_flush() -> int:
    """Push events whose live broadcast failed (Redis was down) once the layer is back."""
    return outbox_flush()
