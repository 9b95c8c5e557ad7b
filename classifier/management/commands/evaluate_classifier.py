from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from classifier import commands
from classifier.management.commands._common import model_dir, run


class Command(BaseCommand):
    help = (
        "Score a model (default: the active one) on a labelled CSV. The last line is "
        "'macro_f1=0.XXXX accuracy=0.XXXX n=N'."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--csv", required=True, help="UTF-8 CSV with text and label")
        parser.add_argument("--model", help="a model file; default: the active model")

    def handle(self, *args: Any, **options: Any) -> None:
        model_path = options.get("model")
        run(
            lambda: commands.evaluate_command(
                out=self.stdout,
                csv_path=options["csv"],
                model_path=model_path,
                model_dir=None if model_path else model_dir(),
            )
        )
