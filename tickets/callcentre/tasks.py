"""Periodic work of the call centre (CELERY_BEAT_SCHEDULE): the assignment sweep and the purge of
recordings past their retention. Thin: the rules live in the services."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from tickets.callcentre.services import assignment, recordings


@shared_task(name="tickets.callcentre.assign_sweep")
def assign_sweep() -> dict[str, Any]:
    return assignment.assign_sweep()


@shared_task(name="tickets.callcentre.recordings_purge")
def recordings_purge() -> int:
    return recordings.recordings_purge()
