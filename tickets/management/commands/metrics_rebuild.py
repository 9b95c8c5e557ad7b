"""python manage.py metrics_rebuild: recompute the unit-day scorecard counters from the event history."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from tickets.metrics.services.scorecards import metrics_rebuild


class Command(BaseCommand):
    help = "从工单事件历史重新计算各单位每日考核计数"

    def handle(self, *args: Any, **options: Any) -> None:
        rows = metrics_rebuild()
        self.stdout.write(f"rebuilt {rows} unit-day rows")
