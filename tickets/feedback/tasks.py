"""Celery tasks of 评价反馈: thin adapters around `tickets.feedback.services.rating`."""

from __future__ import annotations

from celery import shared_task

from tickets.feedback.services import rating


@shared_task(name="tickets.tasks.rating_expire_due")  # type: ignore[misc]
def rating_expire_due() -> int:
    """Hourly: close tickets whose rating request went unanswered for N days (未评价办结)."""
    return len(rating.rating_expire_due())
