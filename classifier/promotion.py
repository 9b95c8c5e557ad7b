"""Whether a candidate model may replace the active one: not worse on a held-back slice."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from classifier.artifact import ModelMetadata
from classifier.evaluation import evaluate
from classifier.model import TextClassifier


@dataclass(frozen=True)
class PromotionDecision:
    """The verdict and the numbers it rests on (macro-F1; ``None`` when not measured)."""

    accepted: bool
    reason: str
    candidate_score: float | None = None
    current_score: float | None = None


def decide_promotion(
    candidate: TextClassifier,
    candidate_meta: ModelMetadata,
    current: TextClassifier | None,
    current_meta: ModelMetadata | None,
    *,
    holdout: Iterable[tuple[str, str]] | None = None,
    tolerance: float = 0.0,
) -> PromotionDecision:
    """Accept ``candidate`` unless it scores below ``current`` by more than ``tolerance``.

    With ``holdout`` rows (text, label), both models are scored on the same rows: the fair
    comparison, and the one to use (e.g. recent human-confirmed tickets neither model trained
    on). Without, each model's own held-back macro-F1 from training time is compared; a model
    that has none cannot be shown to be at least as good and is refused.
    """
    if current is None:
        return PromotionDecision(True, "no usable active model")
    rows = list(holdout) if holdout is not None else None
    new: float | None
    old: float | None
    if rows:
        new = evaluate(candidate, rows).macro_f1
        old = evaluate(current, rows).macro_f1
        basis = f"on {len(rows)} held-back rows"
    else:
        new = candidate_meta.holdout_macro_f1()
        old = current_meta.holdout_macro_f1() if current_meta else None
        basis = "on each model's own held-back slice"
        if new is None:
            return PromotionDecision(False, "candidate has no held-back score", None, old)
        if old is None:
            return PromotionDecision(True, "active model has no held-back score", new, None)
    assert new is not None and old is not None  # for the type checker: set on both paths
    if new + tolerance < old:
        return PromotionDecision(
            False, f"candidate macro-F1 {new:.4f} < active {old:.4f} {basis}", new, old
        )
    return PromotionDecision(
        True, f"candidate macro-F1 {new:.4f} >= active {old:.4f} {basis}", new, old
    )
