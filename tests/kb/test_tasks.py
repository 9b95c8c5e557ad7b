"""The 热点 jobs are scheduled and run through Celery like every periodic job."""

from __future__ import annotations

import time_machine
from django.conf import settings

from hotline.celery import app
from tickets.duplicates.models import HotspotAlert


def test_the_hotspot_jobs_are_on_the_beat_schedule() -> None:
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"tickets.hotspots_surge_scan", "tickets.hotspots_daily_report"} <= tasks
    app.loader.import_default_modules()
    assert "tickets.hotspots_surge_scan" in app.tasks


def test_the_daily_report_lists_yesterdays_hot_spots(make_ticket, units) -> None:  # type: ignore[no-untyped-def]
    from tickets.duplicates.tasks import hotspots_daily_report, hotspots_surge_scan

    with time_machine.travel("2026-03-09 10:00 +0800", tick=False):
        for n in range(4):
            make_ticket(f"光明小区{n + 1}栋停水了，一直没有自来水，请尽快恢复供水", jurisdiction=units["donghu-xinhua"])
    with time_machine.travel("2026-03-10 08:00 +0800", tick=False):
        summary = hotspots_daily_report.apply().get()
        assert hotspots_surge_scan.apply().get() == 0  # four tickets are below the surge minimum
    assert summary[0]["size"] == 4 and summary[0]["label"].startswith("东湖区")
    assert HotspotAlert.objects.count() == 0
