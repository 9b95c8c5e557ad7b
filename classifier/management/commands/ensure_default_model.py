"""python manage.py ensure_default_model — a working model on first start (trained from the demo set)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from classifier.default_model import ensure_default_model


class Command(BaseCommand):
    help = "Make sure CLASSIFIER_MODEL_DIR has an active model; train the shipped demo model if not."

    def handle(self, *args: Any, **options: Any) -> None:
        version = ensure_default_model(settings.CLASSIFIER_MODEL_DIR)
        self.stdout.write(f"active classifier model: {version}")
