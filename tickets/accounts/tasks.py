"""Celery tasks of staff logins (thin adapters; names pinned in tests/test_task_names.py)."""

from __future__ import annotations

from celery import shared_task

from tickets.accounts import services


@shared_task(name="tickets.tasks.staff_credentials_purge")  # type: ignore[misc]
def staff_credentials_purge() -> int:
    """Hourly: drop staff tokens past their lifetime and page sessions past their expiry."""
    return services.staff_credentials_purge()
