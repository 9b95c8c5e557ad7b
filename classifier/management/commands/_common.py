"""Glue shared by the classifier's management commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.management.base import CommandError

from classifier import commands

T = TypeVar("T")


def model_dir() -> str:
    value = getattr(settings, "CLASSIFIER_MODEL_DIR", None)
    if not value:
        raise CommandError("settings.CLASSIFIER_MODEL_DIR is not set")
    return str(value)


def run(action: Callable[[], T]) -> T:
    """Run a core command, turning its expected failures into Django's CommandError."""
    try:
        return action()
    except (commands.CommandError, ValueError, OSError) as exc:
        raise CommandError(str(exc)) from exc
