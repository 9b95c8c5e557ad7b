"""The classifier's part in 按责转办: propose a category, dispatch automatically only when sure.

The classifier itself (classifier/) knows nothing of tickets; this module maps its labels to
the category tree, applies the configurable confidence threshold and records every decision
as a TicketEvent with the model version and the probabilities.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from classifier.prediction import Prediction, unsure_prediction
from classifier.registry import get_registry
from tickets.core.actors import Actor
from tickets.core.memo import memoised, memoised_many
from tickets.core.models import Ticket
from tickets.org.models import Category
from tickets.sla.services import policy

log = logging.getLogger("tickets.classification")


def _predict_text(ticket: Ticket) -> str:
    title, text = ticket.title, ticket.text
    return f"{title}。{text}" if title and not text.startswith(title) else text


def ticket_predict(ticket: Ticket, *, k: int = 3) -> Prediction:
    """Top-k categories for a ticket's title and text; never raises."""
    return tickets_predict([ticket], k=k)[0]


def tickets_predict(tickets: Sequence[Ticket], *, k: int = 3) -> list[Prediction]:
    """The same for a batch, in one vectorised call of the model; never raises."""
    if not tickets:
        return []
    try:
        return list(get_registry(settings.CLASSIFIER_MODEL_DIR).predict_many([_predict_text(t) for t in tickets], k=k))
    except Exception:  # the classifier must never take intake down: the dispatcher decides instead
        log.exception("classifier unavailable")
        return [unsure_prediction("error") for _ in tickets]


def category_for_label(label: str | None) -> Category | None:
    """The active category whose name is the classifier's label (top level first)."""
    if not label:
        return None
    return memoised(
        ("category_for_label", label),
        lambda: Category.objects.filter(name=label, is_active=True).order_by("parent_id", "id").first(),
        reference=True,
    )


def auto_dispatch_threshold(category: Category) -> float:
    """Per-category threshold if set, else the city profile's default."""
    for node in category.lineage():
        if node.auto_dispatch_threshold is not None:
            return float(node.auto_dispatch_threshold)
    return float(policy.active_profile().auto_dispatch_threshold)


def _categories_named(labels: set[str]) -> dict[str, Category]:
    def load(keys: list[tuple[str, str]]) -> dict[tuple[str, str], Category]:
        found: dict[tuple[str, str], Category] = {}
        for category in Category.objects.filter(name__in=sorted(name for _, name in keys), is_active=True).order_by(
            "id"
        ):
            found.setdefault(("category_named", category.name), category)  # the oldest of that name
        return found

    kept = memoised_many([("category_named", label) for label in labels], load, reference=True)
    return {name: category for (_, name), category in kept.items() if category is not None}


def suggestions(prediction: Prediction, found: dict[str, Category] | None = None) -> list[dict[str, Any]]:
    """The top suggestions with their category ids, as the dispatcher queue shows them."""
    if found is None:
        found = _categories_named({s.label for s in prediction.top_k})
    return [
        {
            "label": s.label,
            "probability": round(s.probability, 4),
            "category": found[s.label].pk if s.label in found else None,
        }
        for s in prediction.top_k
    ]


def classification_record(prediction: Prediction, found: dict[str, Category] | None = None) -> dict[str, Any]:
    """What is stored on the ticket and in the `classified` event."""
    record = prediction.as_dict()
    record["suggestions"] = suggestions(prediction, found)
    return record


# Reasons recorded before the wording was made plain ("分类置信度 0.50 低于阈值 0.60"): history keeps
# them, pages rewrite them with `unsure_reason` (tickets/pages/history.py).
LEGACY_UNSURE_REASON = re.compile(r"分类置信度 ([0-9.]+) 低于阈值 ([0-9.]+)")


def unsure_reason(confidence: float, threshold: float) -> str:
    """Why the ticket waits for a dispatcher, in words a civil servant reads at a glance."""
    return f"智能分类把握不足（可信度 {confidence:.0%}，自动派单需 {threshold:.0%} 以上）"


def classification_records(predictions: Sequence[Prediction]) -> list[dict[str, Any]]:
    """`classification_record` for a batch: one query for every suggested category."""
    found = _categories_named({s.label for p in predictions for s in p.top_k})
    return [classification_record(p, found) for p in predictions]


@dataclass(frozen=True)
class CategoryChoice:
    """The classifier's proposal, decided: dispatch automatically only when sure (domain.md §2.2)."""

    record: dict[str, Any]  # stored on the ticket and in the `classified` event
    robot: Actor  # the classifier, by model version
    category: Category | None  # set on the ticket only when sure
    sure: bool
    reason: str  # why the ticket waits for a dispatcher, when not sure


def category_choose(prediction: Prediction, record: dict[str, Any]) -> CategoryChoice:
    robot = Actor.classifier(prediction.model_version or "")
    category = category_for_label(prediction.label)
    threshold = auto_dispatch_threshold(category) if category else 1.0
    sure = category is not None and not prediction.unsure and prediction.confidence >= threshold
    record["threshold"] = threshold
    why = unsure_reason(prediction.confidence, threshold) if prediction.top_k else "智能分类无法判断"
    return CategoryChoice(record, robot, category if sure else None, sure, f"{why}，等待人工确认分类后派单")
