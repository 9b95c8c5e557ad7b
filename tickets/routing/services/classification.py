"""The classifier's part in 按责转办: propose a category, dispatch automatically only when sure.

The classifier itself (classifier/) knows nothing of tickets; this module maps its labels to
the category tree, applies the configurable confidence threshold and records every decision
as a TicketEvent with the model version and the probabilities.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.conf import settings

from classifier.prediction import Prediction, unsure_prediction
from classifier.registry import get_registry
from tickets.core.memo import memoised
from tickets.core.models import Ticket
from tickets.org.models import Category
from tickets.sla.services import policy

log = logging.getLogger("tickets.classification")


def ticket_predict(ticket: Ticket, *, k: int = 3) -> Prediction:
    """Top-k categories for a ticket's title and text; never raises."""
    text = (
        f"{ticket.title}。{ticket.text}" if ticket.title and not ticket.text.startswith(ticket.title) else ticket.text
    )
    try:
        return get_registry(settings.CLASSIFIER_MODEL_DIR).predict(text, k=k)
    except Exception:  # the classifier must never take intake down: the dispatcher decides instead
        log.exception("classifier unavailable")
        return unsure_prediction("error")


def category_for_label(label: str | None) -> Category | None:
    """The active category whose name is the classifier's label (top level first)."""
    if not label:
        return None
    return memoised(
        ("category_for_label", label),
        lambda: Category.objects.filter(name=label, is_active=True).order_by("parent_id", "id").first(),
    )


def auto_dispatch_threshold(category: Category) -> float:
    """Per-category threshold if set, else the city profile's default."""
    for node in category.lineage():
        if node.auto_dispatch_threshold is not None:
            return float(node.auto_dispatch_threshold)
    return float(policy.active_profile().auto_dispatch_threshold)


def suggestions(prediction: Prediction) -> list[dict[str, Any]]:
    """The top suggestions with their category ids, as the dispatcher queue shows them."""
    found = {c.name: c for c in Category.objects.filter(name__in=[s.label for s in prediction.top_k], is_active=True)}
    return [
        {
            "label": s.label,
            "probability": round(s.probability, 4),
            "category": found[s.label].pk if s.label in found else None,
        }
        for s in prediction.top_k
    ]


def classification_record(prediction: Prediction) -> dict[str, Any]:
    """What is stored on the ticket and in the `classified` event."""
    record = prediction.as_dict()
    record["suggestions"] = suggestions(prediction)
    return record


# Reasons recorded before the wording was made plain ("分类置信度 0.50 低于阈值 0.60"): history keeps
# them, pages rewrite them with `unsure_reason` (tickets/pages/history.py).
LEGACY_UNSURE_REASON = re.compile(r"分类置信度 ([0-9.]+) 低于阈值 ([0-9.]+)")


def unsure_reason(confidence: float, threshold: float) -> str:
    """Why the ticket waits for a dispatcher, in words a civil servant reads at a glance."""
    return f"智能分类把握不足（可信度 {confidence:.0%}，自动派单需 {threshold:.0%} 以上）"
