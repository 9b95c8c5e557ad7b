"""python manage.py demo_prepare — what scripts/start.sh does before it serves, in one process.

The schema (migrate), the static files (collectstatic), the default classifier model and the demo
city. As four `manage.py` runs each paid Django's start again (imports and system checks, ~3 s each
on a quiet 2-core machine): most of a start.sh that took over 40 s on a loaded one (issue 14).
Every step is idempotent: a second start only checks.
"""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

STEPS: list[tuple[str, str, dict[str, Any]]] = [
    ("database schema", "migrate", {"interactive": False, "verbosity": 0}),
    ("static files", "collectstatic", {"interactive": False, "verbosity": 0}),
    ("default classifier model", "ensure_default_model", {}),
    ("demo city", "seed_demo", {}),
]


class Command(BaseCommand):
    help = "Migrate, collect static files, ensure the default classifier model and seed the demo city."

    def handle(self, *args: Any, **options: Any) -> None:
        for title, command, arguments in STEPS:
            self.stdout.write(f"==> {title}")
            call_command(command, stdout=self.stdout, **arguments)
