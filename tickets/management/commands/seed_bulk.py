"""python manage.py seed_bulk --tickets N: millions of realistic tickets via COPY (scale benchmarks)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tickets.demo.bulk import bulk_seed
from tickets.demo.guard import production_demo_check, production_demo_flag_add


class Command(BaseCommand):
    help = "用 COPY 批量生成 N 件带完整办理历史的工单（需先运行 seed_demo；仅 PostgreSQL）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tickets", type=int, required=True, help="how many tickets to add")
        parser.add_argument(
            "--units", type=int, default=0, help="add generated streets until this many units handle tickets"
        )
        parser.add_argument("--seed", type=int, default=12345, help="random seed (same seed, same data)")
        parser.add_argument(
            "--months", type=int, default=13, help="spread creation times over this many months up to now"
        )
        parser.add_argument("--chunk", type=int, default=20000, help="tickets per COPY round")
        parser.add_argument(
            "--base",
            type=int,
            default=1_000_000,
            help="generate at most this many lifecycles in Python; more tickets are copies made in SQL",
        )
        parser.add_argument(
            "--rebuild-indexes",
            choices=["auto", "yes", "no"],
            default="auto",
            help="drop secondary indexes and FK checks during the load, build them after (auto: above 200,000 tickets)",
        )
        production_demo_flag_add(parser)

    def _log(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()

    def handle(self, *args: Any, **options: Any) -> None:
        production_demo_check(allowed=options["allow_production_demo"], command="seed_bulk")
        if options["tickets"] <= 0:
            raise CommandError("--tickets must be positive")
        rebuild = {"auto": None, "yes": True, "no": False}[options["rebuild_indexes"]]
        try:
            bulk_seed(
                tickets=options["tickets"],
                units=options["units"],
                seed=options["seed"],
                months=options["months"],
                chunk=options["chunk"],
                base=options["base"],
                rebuild_indexes=rebuild,
                log=self._log,
            )
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
