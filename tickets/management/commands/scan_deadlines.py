"""python manage.py scan_deadlines: one tick of the 统一督办 scanner (what beat runs every minute)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tickets.supervision.services import scanner


class Command(BaseCommand):
    help = "扫描到期派单：催办、督办、通报（每个派单每级只发一次）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        report = scanner.deadlines_scan(batch_size=options["batch_size"])
        fired = ", ".join(f"{k}={v}" for k, v in report.fired.items())
        self.stdout.write(f"fired: {fired}; skipped: {report.skipped}; {report.seconds:.3f}s")
