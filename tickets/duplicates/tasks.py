"""Thin Celery tasks for 热点: the services do the work; tasks only choose the window."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from celery import shared_task
from django.utils import timezone

from tickets.duplicates.services import hotspots
from tickets.sla.services.calendar import local_day_bounds

log = logging.getLogger("tickets.hotspots")


@shared_task(name="tickets.hotspots_surge_scan")
def hotspots_surge_scan() -> int:
    """Hourly: clusters of the last 24 h against their baseline; new surges are announced live."""
    return len(hotspots.hotspot_surge_scan())


@shared_task(name="tickets.hotspots_daily_report")
def hotspots_daily_report(top: int = 10) -> list[dict[str, object]]:
    """Daily (未诉先办): yesterday's top hot spots with their trend, logged for the morning briefing."""
    yesterday = timezone.localdate() - timedelta(days=1)
    start, end = local_day_bounds(yesterday, yesterday)
    spots = hotspots.hotspots_for_period(start=start, end=end, top=top)
    summary: list[dict[str, object]] = [
        {"label": s.label, "size": s.size, "previous": s.previous, "trend": s.trend} for s in spots
    ]
    for row in summary:
        log.info("hot spot %s: %s tickets (previous day %s)", row["label"], row["size"], row["previous"])
    return summary


@shared_task(name="tickets.hotspots_refresh", ignore_result=True)
def hotspots_refresh(start: str, until: str | None, top: int, min_size: int) -> None:
    """The 热点 page's periods, recomputed behind it (queued by the page when its copy is stale)."""
    hotspots.hotspot_summaries_refresh(
        start=datetime.fromisoformat(start),
        until=datetime.fromisoformat(until) if until else None,
        top=top,
        min_size=min_size,
    )
