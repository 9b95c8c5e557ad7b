from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from classifier import commands
from classifier.management.commands._common import model_dir, run


class Command(BaseCommand):
    help = "List the stored classifier models; the active one is marked with *."

    def handle(self, *args: Any, **options: Any) -> None:
        run(lambda: commands.list_command(out=self.stdout, model_dir=model_dir()))
