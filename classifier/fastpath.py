"""A lean inference path for the fitted TF-IDF views and the calibrated linear SVM.

scikit-learn spends about 5 ms of fixed overhead per call on one short message (input
validation in three vectorizers, the FeatureUnion's joblib machinery, the calibrator's
checks): half the latency budget of a single prediction. The arithmetic itself is small:
count terms, apply sublinear TF × IDF, L2-normalise each view, one sparse × dense product,
one sigmoid per class. This module does just that with the fitted vocabularies and weights.

It is an optimisation, never a second model: :func:`build_fast_scorer` returns ``None``
for any structure it does not know, and :class:`classifier.model.TextClassifier` checks on
probe texts that it reproduces ``predict_proba`` before using it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion


@dataclass(frozen=True)
class _View:
    analyze: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    idf: np.ndarray
    offset: int
    sublinear: bool


class FastScorer:
    """Features and calibrated probabilities for a batch of normalised texts."""

    def __init__(
        self,
        views: list[_View],
        n_features: int,
        weights: np.ndarray,
        intercept: np.ndarray,
        slopes: np.ndarray,
        offsets: np.ndarray,
    ) -> None:
        self._views = views
        self._n_features = n_features
        self._weights_t = np.ascontiguousarray(weights.T, dtype=np.float64)
        self._intercept = intercept.astype(np.float64)
        self._slopes = slopes.astype(np.float64)
        self._offsets = offsets.astype(np.float64)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The same matrix as the fitted ``FeatureUnion.transform`` (float64, rows' column
        indices unsorted, which sparse products accept)."""
        indptr = [0]
        index_parts: list[np.ndarray] = []
        value_parts: list[np.ndarray] = []
        filled = 0
        for text in texts:
            for view in self._views:
                lookup = view.vocabulary.get
                columns: list[int] = []
                counts: list[int] = []
                for term, count in Counter(view.analyze(text)).items():
                    column = lookup(term)
                    if column is not None:
                        columns.append(column)
                        counts.append(count)
                if not columns:
                    continue
                where = np.array(columns, dtype=np.int64)
                tf = np.array(counts, dtype=np.float64)
                if view.sublinear:
                    tf = np.log(tf) + 1.0
                weighted = tf * view.idf[where]
                weighted /= np.sqrt(np.dot(weighted, weighted))
                index_parts.append(where + view.offset)
                value_parts.append(weighted)
                filled += len(columns)
            indptr.append(filled)
        empty = np.zeros(0)
        return sp.csr_matrix(
            (
                np.concatenate(value_parts) if value_parts else empty,
                np.concatenate(index_parts) if index_parts else empty.astype(np.int64),
                np.array(indptr, dtype=np.int64),
            ),
            shape=(len(texts), self._n_features),
        )

    def predict_proba(self, matrix: sp.csr_matrix) -> np.ndarray:
        """One-vs-rest sigmoid calibration of the SVM scores, normalised per row."""
        scores = np.asarray(matrix @ self._weights_t) + self._intercept
        proba = expit(-(self._slopes * scores + self._offsets))
        total = proba.sum(axis=1, keepdims=True)
        uniform = np.full_like(proba, 1.0 / proba.shape[1])
        proba = np.divide(proba, total, out=uniform, where=total != 0)
        proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba


def _view_of(vectorizer: Any, offset: int) -> _View | None:
    if not isinstance(vectorizer, TfidfVectorizer) or vectorizer.norm != "l2":
        return None
    if not vectorizer.use_idf or vectorizer.binary:
        return None
    return _View(
        analyze=vectorizer.build_analyzer(),
        vocabulary=vectorizer.vocabulary_,
        idf=np.asarray(vectorizer.idf_, dtype=np.float64),
        offset=offset,
        sublinear=bool(vectorizer.sublinear_tf),
    )


def build_fast_scorer(features: FeatureUnion, estimator: Any) -> FastScorer | None:
    """A fast scorer equivalent to ``features`` + a sigmoid-calibrated linear model, or None."""
    try:
        views: list[_View] = []
        offset = 0
        for _, vectorizer in features.transformer_list:
            view = _view_of(vectorizer, offset)
            if view is None:
                return None
            views.append(view)
            offset += len(vectorizer.vocabulary_)
        if features.transformer_weights or len(estimator.calibrated_classifiers_) != 1:
            return None
        calibrated = estimator.calibrated_classifiers_[0]
        base = calibrated.estimator
        if calibrated.method != "sigmoid" or len(base.classes_) < 3:
            return None
        if list(base.classes_) != list(estimator.classes_):
            return None
        slopes = np.array([float(c.a_) for c in calibrated.calibrators])
        offsets = np.array([float(c.b_) for c in calibrated.calibrators])
        weights = np.asarray(base.coef_)
        if weights.shape != (len(base.classes_), offset):
            return None
        return FastScorer(views, offset, weights, np.asarray(base.intercept_), slopes, offsets)
    except (AttributeError, TypeError, ValueError):
        return None
