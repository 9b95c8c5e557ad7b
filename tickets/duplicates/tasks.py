"""Thin Celery tasks for 热点: the services do the work; tasks only choose the window."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from celery import Task, shared_task
from django.core.cache import cache
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


# One page refresh clusters at a time in the whole deployment. The worker runs two pool processes and
# routing shares them: three periods refreshed at once (a supervisor opening the page on a surge
# day) would hold both for seconds and hold up the routing of every new ticket behind them.
REFRESH_LOCK = "hotspots:refresh:running"
REFRESH_LOCK_SECONDS = 120  # longer than a refresh takes (4.6 s at 20,000 tickets); frees a killed one's


@shared_task(name="tickets.hotspots_refresh", bind=True, ignore_result=True, max_retries=60)  # type: ignore[misc]
def hotspots_refresh(self: Task, start: str, until: str | None, top: int, min_size: int) -> None:
    """The 热点 page's periods, recomputed behind it (queued by the page when its copy is stale).
    While another refresh runs this one waits in the broker (5 s, up to 5 minutes), not in a pool
    process; after that the page's mark expires and its next load queues it again."""
    if not cache.add(REFRESH_LOCK, 1, REFRESH_LOCK_SECONDS):
        raise self.retry(countdown=5)
    try:
        hotspots.hotspot_summaries_refresh(
            start=datetime.fromisoformat(start),
            until=datetime.fromisoformat(until) if until else None,
            top=top,
            min_size=min_size,
        )
    finally:
        cache.delete(REFRESH_LOCK)
