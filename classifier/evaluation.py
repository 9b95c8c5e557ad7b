"""Scoring a model on labelled rows: per-class report, confusion matrix, summary line."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, f1_score


class LabelPredictor(Protocol):
    def predict_labels(self, texts: Iterable[object]) -> list[str]: ...


@dataclass(frozen=True)
class EvaluationReport:
    """Scores of one model on ``n`` rows."""

    macro_f1: float
    accuracy: float
    n: int
    labels: tuple[str, ...]
    per_class: str
    confusion: list[list[int]]

    def summary_line(self) -> str:
        """The machine-readable last line of ``evaluate_classifier``."""
        return f"macro_f1={self.macro_f1:.4f} accuracy={self.accuracy:.4f} n={self.n}"

    def confusion_table(self) -> str:
        """The confusion matrix as text: rows are true labels, columns predictions."""
        width = max([len(str(v)) for row in self.confusion for v in row] + [4])
        header = " " * 3 + " ".join(f"{i:>{width}}" for i in range(len(self.labels)))
        lines = ["confusion matrix (rows: true, columns: predicted)", header]
        for index, (label, row) in enumerate(zip(self.labels, self.confusion, strict=True)):
            cells = " ".join(f"{value:>{width}}" for value in row)
            lines.append(f"{index:>2} {cells}  {label}")
        return "\n".join(lines)


def score(truth: Sequence[str], predicted: Sequence[str]) -> EvaluationReport:
    """Compare predicted labels with the truth."""
    labels = tuple(sorted(set(truth) | set(predicted)))
    return EvaluationReport(
        macro_f1=float(
            f1_score(truth, predicted, labels=sorted(set(truth)), average="macro", zero_division=0)
        ),
        accuracy=float(accuracy_score(truth, predicted)),
        n=len(truth),
        labels=labels,
        per_class=str(
            classification_report(truth, predicted, labels=list(labels), digits=4, zero_division=0)
        ),
        confusion=confusion_matrix(truth, predicted, labels=list(labels)).tolist(),
    )


def evaluate(model: LabelPredictor, rows: Iterable[tuple[str, str]]) -> EvaluationReport:
    """Predict every row's text and score against its label."""
    pairs = list(rows)
    if not pairs:
        raise ValueError("no rows to evaluate on")
    texts = [text for text, _ in pairs]
    truth = [label for _, label in pairs]
    return score(truth, model.predict_labels(texts))
