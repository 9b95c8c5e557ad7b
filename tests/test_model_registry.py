"""The model registry (tickets/models.py) names every model of the app: the admin reads it, and
the Chinese labels (tickets/model_labels.py) are applied to what it imports."""

from __future__ import annotations

from django.apps import apps

import tickets.models as registry


def test_every_model_of_the_app_is_in_the_registry() -> None:
    listed = {getattr(registry, name) for name in registry.__all__ if isinstance(getattr(registry, name), type)}
    missing = sorted(m.__name__ for m in apps.get_app_config("tickets").get_models() if m not in listed)
    assert missing == []
