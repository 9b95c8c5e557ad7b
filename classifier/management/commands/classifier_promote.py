from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from classifier import commands
from classifier.management.commands._common import model_dir, run


class Command(BaseCommand):
    help = (
        "Make a stored model active if it is not worse than the active one (on --csv rows, "
        "else on each model's own held-back slice)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("version")
        parser.add_argument("--csv", help="held-back labelled rows to compare both models on")
        parser.add_argument("--force", action="store_true", help="promote even if worse")

    def handle(self, *args: Any, **options: Any) -> None:
        decision = run(
            lambda: commands.promote_command(
                out=self.stdout,
                model_dir=model_dir(),
                version=options["version"],
                csv_path=options.get("csv"),
                force=options["force"],
            )
        )
        if not decision.accepted:
            raise CommandError(decision.reason)
