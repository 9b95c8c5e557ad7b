from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from classifier import commands
from classifier.management.commands._common import model_dir, run


class Command(BaseCommand):
    help = (
        "Train the request classifier on a CSV (columns text,label) or, without --csv, on "
        "settings.CLASSIFIER_TRAINING_ROWS; store a versioned model (not yet active)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--csv", help="UTF-8 CSV with a header holding text and label")
        parser.add_argument("--out", help="write the model file here instead of the model dir")

    def handle(self, *args: Any, **options: Any) -> None:
        out_path = options.get("out")
        run(
            lambda: commands.train_command(
                out=self.stdout,
                csv_path=options.get("csv"),
                rows_callable=getattr(settings, "CLASSIFIER_TRAINING_ROWS", None),
                out_path=out_path,
                model_dir=None if out_path else model_dir(),
            )
        )
