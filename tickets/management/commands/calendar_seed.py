"""python manage.py calendar_seed: load every year `chinesecalendar` knows into the calendar table."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tickets.sla.services import calendar


class Command(BaseCommand):
    help = "用 chinesecalendar 包写入已知年份的工作日历（默认只补缺失年份）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="覆盖已有年份（管理员的修改会被覆盖）")
        parser.add_argument("years", nargs="*", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        written = calendar.calendar_seed_from_package(years=options["years"] or None, only_missing=not options["all"])
        self.stdout.write(f"seeded years: {', '.join(map(str, written)) or 'none (all present)'}")
