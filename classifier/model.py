"""A fitted text classifier: normalise → features → calibrated linear model → Prediction."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.pipeline import FeatureUnion

from classifier.fastpath import FastScorer, build_fast_scorer
from classifier.features import normalize_many
from classifier.prediction import (
    REASON_LOW_CONFIDENCE,
    REASON_NO_KNOWN_TERMS,
    REASON_NO_TEXT,
    LabelScore,
    Prediction,
)

logger = logging.getLogger(__name__)

#: Below this calibrated probability the best label is only a suggestion for a human.
DEFAULT_UNSURE_BELOW = 0.5
#: Terms shorter than this are not shown to the dispatcher: one Chinese character explains
#: nothing ("路", "区"), even when it weighs in the model.
_MIN_TERM_CHARS = 2
#: Only whole words explain a decision; character bigrams straddle words ("烤店", "保报").
_EXPLAINING_VIEW = "word"


def linear_weights(estimator: Any) -> np.ndarray | None:
    """Per-class feature weights (n_classes × n_features) of a linear model, if it has them.

    For a ``CalibratedClassifierCV`` the weights of its fitted base estimators are averaged;
    the calibration maps are monotonic per class, so the signs and ranking still hold.
    """
    if hasattr(estimator, "calibrated_classifiers_"):
        parts = [linear_weights(c.estimator) for c in estimator.calibrated_classifiers_]
        found = [p for p in parts if p is not None]
        return np.mean(found, axis=0) if found else None
    coef = getattr(estimator, "coef_", None)
    if coef is None:
        return None
    coef = np.asarray(coef.toarray() if sp.issparse(coef) else coef, dtype=np.float32)
    return coef


class TextClassifier:
    """Wraps a fitted feature union and probabilistic estimator with the labels they use.

    ``predict_many`` never raises on odd text (empty, huge, emoji, other scripts): the text is
    normalised first and an input with no known term is answered ``unsure``.
    """

    def __init__(
        self,
        features: FeatureUnion,
        estimator: Any,
        *,
        version: str | None = None,
        unsure_below: float = DEFAULT_UNSURE_BELOW,
        n_terms: int = 5,
    ) -> None:
        self.features = features
        self.estimator = estimator
        self.labels: tuple[str, ...] = tuple(str(label) for label in estimator.classes_)
        self.version = version
        self.unsure_below = unsure_below
        self.n_terms = n_terms
        self._weights = linear_weights(estimator)
        self._fast = _verified_fast_scorer(features, estimator)
        self._term_names = np.array(
            [_explaining_term(name) for name in features.get_feature_names_out()], dtype=object
        )
        self._explaining = self._term_names != ""

    def predict(self, text: object, k: int = 3) -> Prediction:
        """Classify one message."""
        return self.predict_many([text], k=k)[0]

    def predict_many(self, texts: Iterable[object], k: int = 3) -> list[Prediction]:
        """Classify a batch: one vectorisation, one matrix product and one ranking of
        categories and explaining words for all of it."""
        normalised = normalize_many(texts)
        if not normalised:
            return []
        matrix, probabilities = self._score(normalised)
        probabilities = _bounded(probabilities)
        order = np.argsort(-probabilities, axis=1, kind="stable")[:, : max(k, 1)]
        terms = self._top_terms(matrix, order[:, 0])
        labels = self.labels
        predictions = []
        for row, text in enumerate(normalised):
            if not text:
                predictions.append(
                    Prediction(top_k=(), model_version=self.version, unsure=True, reason=REASON_NO_TEXT)
                )
                continue
            top_k = tuple(
                LabelScore(labels[index], float(probabilities[row, index])) for index in order[row]
            )
            if matrix.indptr[row] == matrix.indptr[row + 1]:
                predictions.append(
                    Prediction(
                        top_k=top_k,
                        model_version=self.version,
                        unsure=True,
                        reason=REASON_NO_KNOWN_TERMS,
                    )
                )
                continue
            unsure = top_k[0].probability < self.unsure_below
            predictions.append(
                Prediction(
                    top_k=top_k,
                    model_version=self.version,
                    terms=terms[row],
                    unsure=unsure,
                    reason=REASON_LOW_CONFIDENCE if unsure else "",
                )
            )
        return predictions

    def predict_labels(self, texts: Iterable[object]) -> list[str]:
        """The best label per text, for evaluation (no explanation, no unsure handling)."""
        normalised = normalize_many(texts)
        if not normalised:
            return []
        best = self._score(normalised)[1].argmax(axis=1)
        return [self.labels[index] for index in best]

    def _score(self, normalised: list[str]) -> tuple[sp.csr_matrix, np.ndarray]:
        if self._fast is not None:
            matrix = self._fast.transform(normalised)
            return matrix, self._fast.predict_proba(matrix)
        matrix = self.features.transform(normalised).tocsr()
        return matrix, np.asarray(self.estimator.predict_proba(matrix))

    def _top_terms(self, matrix: sp.csr_matrix, best: np.ndarray) -> list[tuple[str, ...]]:
        """Per row, the words of the message with the largest positive pull towards its
        best label (``best``), strongest first, at most ``n_terms``."""
        n = matrix.shape[0]
        if self._weights is None:
            return [()] * n
        rows = np.repeat(np.arange(n), np.diff(matrix.indptr))
        columns = matrix.indices
        contributions = matrix.data * self._weights[best[rows], columns]
        keep = self._explaining[columns] & (contributions > 0)
        rows, columns, contributions = rows[keep], columns[keep], contributions[keep]
        # Row by row; within a row strongest first (ties: in the row's column order).
        ranked = np.lexsort((-contributions, rows))
        rows, names = rows[ranked], self._term_names[columns[ranked]]
        bounds = np.searchsorted(rows, np.arange(n + 1))
        terms: list[tuple[str, ...]] = []
        for row in range(n):
            found: list[str] = []
            for term in names[bounds[row] : bounds[row + 1]]:
                if term not in found:
                    found.append(term)
                    if len(found) == self.n_terms:
                        break
            terms.append(tuple(found))
        return terms


def _bounded(probabilities: np.ndarray) -> np.ndarray:
    """Calibrated rows clipped to [0, 1] and, where rounding pushed a row's sum a hair over 1,
    rescaled: the documented invariant of ``top_k``."""
    probabilities = np.clip(np.asarray(probabilities, dtype=np.float64), 0.0, 1.0)
    totals = probabilities.sum(axis=1, keepdims=True)
    return np.divide(probabilities, totals, out=probabilities, where=totals > 1.0)


#: Texts on which the fast path must reproduce scikit-learn before it is trusted.
_PROBES = (
    "",
    "东湖区人民路烧烤店油烟扰民，晚上噪音很大",
    "公司拖欠工资三个月，社保也没有交",
    "孩子入学学位不够，公交线路太少，医保报销难",
    "ABC 123 !!! 😀",
)


def _verified_fast_scorer(features: FeatureUnion, estimator: Any) -> FastScorer | None:
    fast = build_fast_scorer(features, estimator)
    if fast is None:
        return None
    probes = normalize_many(_PROBES)
    reference = np.asarray(estimator.predict_proba(features.transform(probes)))
    if not np.allclose(fast.predict_proba(fast.transform(probes)), reference, atol=1e-5):
        logger.warning("classifier: fast path disagrees with scikit-learn; not using it")
        return None
    return fast


def _explaining_term(feature_name: str) -> str:
    """The word behind a feature name ("word__油烟" → "油烟"), or "" if it explains nothing."""
    view, _, term = feature_name.partition("__")
    term = term.strip()
    return term if view == _EXPLAINING_VIEW and len(term) >= _MIN_TERM_CHARS else ""


def label_counts(labels: Sequence[str]) -> dict[str, int]:
    """How many examples each label has (used to size calibration folds)."""
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    return counts
