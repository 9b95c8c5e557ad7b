"""The classifier's answer for one message, as the dispatcher (派单员) and the services see it."""

from __future__ import annotations

from dataclasses import dataclass, field

#: Why a prediction is flagged unsure; stored with the ticket event so a reviewer knows.
REASON_NO_MODEL = "no_model"
REASON_NO_TEXT = "no_text"
REASON_NO_KNOWN_TERMS = "no_known_terms"
REASON_LOW_CONFIDENCE = "low_confidence"
REASON_ERROR = "error"


@dataclass(frozen=True, slots=True)
class LabelScore:
    """One candidate category (事项分类) with its calibrated probability."""

    label: str
    probability: float


@dataclass(frozen=True, slots=True)
class Prediction:
    """Top-k categories, best first, with what the dispatcher needs to trust or override them.

    ``top_k`` is sorted by probability (descending) and its probabilities sum to at most 1.
    ``terms`` are the words or character n-grams that pushed hardest towards the top label,
    strongest first. ``unsure`` means "do not dispatch automatically": the ticket waits for a
    human whatever the configured confidence threshold; ``reason`` says why.
    """

    top_k: tuple[LabelScore, ...]
    model_version: str | None
    terms: tuple[str, ...] = field(default=())
    unsure: bool = False
    reason: str = ""

    @property
    def label(self) -> str | None:
        """The best category, or ``None`` when there is no candidate at all."""
        return self.top_k[0].label if self.top_k else None

    @property
    def confidence(self) -> float:
        """The calibrated probability of the best category (0.0 without a candidate)."""
        return self.top_k[0].probability if self.top_k else 0.0

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready form for ticket events and API payloads."""
        return {
            "label": self.label,
            "confidence": round(self.confidence, 4),
            "top_k": [
                {"label": item.label, "probability": round(item.probability, 4)}
                for item in self.top_k
            ],
            "model_version": self.model_version,
            "terms": list(self.terms),
            "unsure": self.unsure,
            "reason": self.reason,
        }


def unsure_prediction(reason: str, model_version: str | None = None) -> Prediction:
    """A prediction that routes the ticket to the dispatcher queue with no suggestion."""
    return Prediction(top_k=(), model_version=model_version, unsure=True, reason=reason)
