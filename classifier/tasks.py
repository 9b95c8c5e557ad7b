"""Scheduled retraining from human-confirmed tickets (a thin Celery task around the core)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery import shared_task
from django.conf import settings

from classifier.commands import rows_from_callable
from classifier.registry import get_registry
from classifier.training import train_model

log = logging.getLogger("classifier.retrain")

#: Fewer confirmed tickets than this, or fewer categories, is not enough to beat the default model.
MIN_ROWS = 200
MIN_LABELS = 2
HOLDOUT_FRACTION = 0.15


def retrain_from_store(*, min_rows: int = MIN_ROWS, progress: Callable[[str], None] | None = None) -> dict[str, object]:
    """Train on confirmed tickets; promote only if not worse on the newest held-back slice.

    The newest tickets are held back (they look most like what comes next), both the active
    and the candidate model are scored on them, and the pointer moves only when the candidate
    is at least as good. Returns what happened, for the task result and the log. ``progress``
    hears each step (the page that started the run shows them).
    """
    say = progress or (lambda message: None)
    rows = rows_from_callable(settings.CLASSIFIER_TRAINING_ROWS)
    say(f"rows {len(rows)}")
    labels = {label for _, label in rows}
    if len(rows) < min_rows or len(labels) < MIN_LABELS:
        return {"status": "skipped", "rows": len(rows), "labels": len(labels)}
    cut = int(len(rows) * (1 - HOLDOUT_FRACTION))
    train_rows, holdout = rows[:cut], rows[cut:]
    trained = train_model(train_rows, version_prefix="store-", progress=say)
    registry = get_registry(settings.CLASSIFIER_MODEL_DIR)
    version = registry.add(trained.classifier, trained.metadata)
    say("evaluating")
    decision = registry.promote(version, holdout=holdout)
    log.info("classifier retrain %s: %s (%s)", version, "promoted" if decision.accepted else "kept", decision.reason)
    return {
        "status": "promoted" if decision.accepted else "kept",
        "version": version,
        "rows": len(rows),
        "reason": decision.reason,
        "candidate_macro_f1": decision.candidate_score,
        "active_macro_f1": decision.current_score,
    }


@shared_task(name="classifier.retrain", acks_late=True)
def classifier_retrain() -> dict[str, object]:
    return retrain_from_store()
