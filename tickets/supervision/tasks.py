"""Celery tasks of 限时办结/统一督办: thin adapters around `tickets.supervision.services.scanner`."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from tickets.supervision.services import scanner, supervision


@shared_task(name="tickets.sla.supervisions_fanout", acks_late=True)
def supervisions_fanout_task(supervision_ids: list[int], event_ids: list[int]) -> None:
    """Live push and SMS of one committed scanner batch."""
    supervision.supervisions_fanout(supervision_ids, event_ids)


def _queue_fanout(supervision_ids: list[int], event_ids: list[int]) -> None:
    supervisions_fanout_task.delay(supervision_ids, event_ids)


@shared_task(name="tickets.sla.scan_deadlines", ignore_result=True)
def scan_deadlines_task() -> dict[str, Any]:
    """Every minute (CELERY_BEAT_SCHEDULE): 催办/督办/通报 of the assignments now due."""
    report = scanner.deadlines_scan(fanout=_queue_fanout)
    return {"fired": report.fired, "skipped": report.skipped, "seconds": round(report.seconds, 3)}


@shared_task(name="tickets.sla.supervisions_notify_pending", ignore_result=True)
def supervisions_notify_pending_task() -> int:
    """Every minute: notices whose fan-out task was lost (broker down at commit) are sent, once."""
    return len(supervision.supervisions_notify_pending())
