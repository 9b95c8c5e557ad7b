"""python manage.py calendar_import PATH: import one year of the statutory calendar from a year file."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tickets.sla.calendar_source import YearFileError
from tickets.sla.services import calendar


class Command(BaseCommand):
    help = "从年度节假日安排文件（.toml / .json，格式见 tickets/sla/data/cn-2027.example.toml）导入工作日历"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = calendar.calendar_import_file(path=options["path"])
        except (YearFileError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"imported {result.year}; deadlines filled in: {result.filled}; still waiting for a later year: "
            f"{result.still_missing}"
        )
