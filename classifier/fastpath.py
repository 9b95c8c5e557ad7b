"""A lean inference path for the fitted TF-IDF views and the calibrated linear SVM.

scikit-learn spends about 5 ms of fixed overhead per call on one short message (input
validation in three vectorizers, the FeatureUnion's joblib machinery, the calibrator's
checks), and its analyzers build every n-gram of every message as a Python string. The
arithmetic itself is small: count terms, apply sublinear TF × IDF, L2-normalise each view,
one sparse × dense product, one sigmoid per class. This module does just that with the fitted
vocabularies and weights, for a whole batch at once:

* the character views turn the batch into one array of code points; each unigram and bigram
  is an integer key, looked up in the view's sorted keys;
* the lexicon view (:class:`classifier.features.LexiconTfidf`) hashes every window of two to
  six characters with a 64-bit mix and looks the hashes up the same way; a hit is a
  vocabulary word only if its characters match too, so a hash collision cannot add a term;
* any other view (the jieba word view of older models) is read term by term as before.

It is an optimisation, never a second model: :func:`build_fast_scorer` returns ``None``
for any structure it does not know, and :class:`classifier.model.TextClassifier` checks on
probe texts that it reproduces ``predict_proba`` before using it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from classifier.features import LexiconTfidf, LexiconWords, head_of

#: Code points are below this; a bigram (a, b) is the key (a + 1) × _CODES + b, above every unigram.
_CODES = 0x110000
_EMPTY = np.zeros(0, dtype=np.int64)
# Texts per pass: a batch's arrays stay in the CPU's caches (7,414 texts at once ran at half the
# rate of 256 at a time).
_CHUNK = 256
# scikit-learn's char analyzer first collapses runs of whitespace (a no-op on normalised text).
_WHITE_SPACES = re.compile(r"\s\s+")
# Odd 64-bit constants of the window hash (splitmix64's).
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_STEP = np.uint64(0x9E3779B97F4A7C15)


class _Batch:
    """A batch of texts as one array of code points, with the document of each position."""

    def __init__(self, texts: Sequence[str]) -> None:
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        # surrogatepass: one code point per character whatever the text holds (normalised text has
        # no lone surrogates, but the positions must never shift if one slipped through).
        joined = "".join(texts).encode("utf-32-le", errors="surrogatepass")
        self.codes = np.frombuffer(joined, dtype=np.uint32).astype(np.int64)
        self.doc = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)


# A view's counter: the batch's (document, column, count) triples, each pair once.
Counts = tuple[np.ndarray, np.ndarray, np.ndarray]


def _count(doc: np.ndarray, column: np.ndarray, n_columns: int) -> Counts:
    pairs, counts = np.unique(doc * n_columns + column, return_counts=True)
    rows = pairs // n_columns
    return rows, pairs - rows * n_columns, counts


class _KeyTable:
    """Integer keys → columns, an open-addressing hash table queried for a whole array at once.

    A quarter full at most, so most queries end at their first slot; a sorted array and
    ``np.searchsorted`` took three times as long (17 dependent steps per query).
    """

    _FREE = np.int64(-1)  # keys are never negative: code points, or hashes with the top bit off

    def __init__(self, keys: np.ndarray, columns: np.ndarray) -> None:
        if len(np.unique(keys)) != len(keys):
            raise ValueError("duplicate keys")
        self.bits = max(4, int(len(keys) * 4 - 1).bit_length())
        self.mask = np.int64((1 << self.bits) - 1)
        self.keys = np.full(1 << self.bits, self._FREE, dtype=np.int64)
        self.columns = np.full(1 << self.bits, -1, dtype=np.int64)
        pending = np.arange(len(keys))
        slots = self._home(keys)
        while len(pending):
            wanted = slots[pending]
            free = self.keys[wanted] == self._FREE
            taken, first = np.unique(wanted[free], return_index=True)
            placed = pending[free][first]
            self.keys[taken] = keys[placed]
            self.columns[taken] = columns[placed]
            pending = pending[self.keys[wanted] != keys[pending]]
            slots[pending] = (slots[pending] + 1) & self.mask

    def _home(self, keys: np.ndarray) -> np.ndarray:
        return (_mix(keys.astype(np.uint64)) >> np.uint64(64 - self.bits)).astype(np.int64)

    def find(self, queries: np.ndarray) -> np.ndarray:
        """The column of each query, -1 where it is not a key."""
        found = np.full(len(queries), -1, dtype=np.int64)
        active = np.arange(len(queries))
        slots = self._home(queries)
        while len(active):
            there = self.keys[slots]
            match = there == queries[active]
            found[active[match]] = self.columns[slots[match]]
            going = ~match & (there != self._FREE)
            active, slots = active[going], (slots[going] + 1) & self.mask
        return found


class _CharGrams:
    """Character 1-2 grams of each text's first ``chars`` characters (or of all of it)."""

    def __init__(self, vocabulary: dict[str, int], ngrams: tuple[int, int], chars: int | None) -> None:
        self.low, self.high = ngrams
        self.chars = chars
        terms = list(vocabulary)
        lengths = np.fromiter(map(len, terms), dtype=np.int64, count=len(terms))
        if len(terms) and not (lengths.min() >= 1 and lengths.max() <= 2):
            raise ValueError("a character view's terms are one or two characters")
        codes = _Batch(terms).codes
        first = np.cumsum(lengths) - lengths
        keys = codes[first]
        pairs = lengths == 2
        keys[pairs] = (keys[pairs] + 1) * _CODES + codes[first[pairs] + 1]
        columns = np.fromiter(map(vocabulary.__getitem__, terms), dtype=np.int64, count=len(terms))
        self.table = _KeyTable(keys, columns)
        self.n_columns = len(terms)

    def __call__(self, texts: Sequence[str]) -> Counts:
        heads = [_WHITE_SPACES.sub(" ", text[: self.chars]) for text in texts]
        batch = _Batch(heads)
        queries, docs = [], []
        if self.low == 1:
            queries.append(batch.codes)
            docs.append(batch.doc)
        if self.high == 2:
            inside = batch.doc[:-1] == batch.doc[1:]
            queries.append(((batch.codes[:-1] + 1) * _CODES + batch.codes[1:])[inside])
            docs.append(batch.doc[:-1][inside])
        columns, doc = self.table.find(np.concatenate(queries)), np.concatenate(docs)
        hit = columns >= 0
        return _count(doc[hit], columns[hit], self.n_columns)

    @classmethod
    def of(cls, vectorizer: TfidfVectorizer) -> _CharGrams | None:
        low, high = vectorizer.ngram_range
        if vectorizer.analyzer != "char" or not (1 <= low <= high <= 2):
            return None
        preprocessor = vectorizer.preprocessor
        if preprocessor is None:
            chars = None
        elif isinstance(preprocessor, partial) and preprocessor.func is head_of and not preprocessor.args:
            chars = preprocessor.keywords.get("chars")
        else:
            return None
        if (vectorizer.lowercase and preprocessor is None) or vectorizer.strip_accents is not None:
            return None
        return cls(vectorizer.vocabulary_, (low, high), chars)


def _mix(values: np.ndarray) -> np.ndarray:
    values = values ^ (values >> np.uint64(30))
    values = values * _MIX_1
    values = values ^ (values >> np.uint64(27))
    values = values * _MIX_2
    return values ^ (values >> np.uint64(31))


def _first_hash(codes: np.ndarray) -> np.ndarray:
    return _mix(codes.astype(np.uint64) + _STEP)


def _next_hash(hashes: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Hashes of strings one character longer: ``hashes`` of the heads, then ``codes``."""
    return _mix((hashes * _STEP) ^ codes.astype(np.uint64))


def _window_hashes(codes: np.ndarray, longest: int) -> list[np.ndarray]:
    """``hashes[n - 1][i]``: the hash of the ``n`` code points from position ``i``."""
    current = _first_hash(codes)
    hashes = [current]
    for length in range(2, longest + 1):
        current = _next_hash(current[:-1], codes[length - 1 :])
        hashes.append(current)
    return hashes


def _word_hashes(spelling: np.ndarray) -> np.ndarray:
    """The hash of each row's word (code points, -1 after its end), as `_window_hashes` gives."""
    hashes = _first_hash(spelling[:, 0])
    for offset in range(1, spelling.shape[1]):
        longer = spelling[:, offset] >= 0
        hashes[longer] = _next_hash(hashes[longer], spelling[longer, offset])
    return hashes


class _LexiconWords:
    """Every vocabulary word (of the lexicon view) in each text's first ``chars`` characters."""

    def __init__(self, vocabulary: dict[str, int], lengths: tuple[int, int], chars: int) -> None:
        self.low, self.high = lengths
        self.chars = chars
        self.n_columns = len(vocabulary)
        # Each word's code points by column (-1 after its end): its hash, and the check that a
        # hit is the word itself.
        self.spelling = np.full((self.n_columns, self.high), -1, dtype=np.int64)
        for word, column in vocabulary.items():
            if not self.low <= len(word) <= self.high:
                raise ValueError(f"lexicon word of {len(word)} characters")
            self.spelling[column, : len(word)] = list(map(ord, word))
        keys = _word_hashes(self.spelling)
        self.table = _KeyTable(  # ValueError if two words share a hash: then no fast path
            (keys >> np.uint64(1)).astype(np.int64), np.arange(self.n_columns, dtype=np.int64)
        )

    def __call__(self, texts: Sequence[str]) -> Counts:
        batch = _Batch([text[: self.chars] for text in texts])
        docs, columns = [], []
        for length, hashes in enumerate(_window_hashes(batch.codes, self.high), start=1):
            if length < self.low or len(hashes) == 0:
                continue
            found = self.table.find((hashes >> np.uint64(1)).astype(np.int64))
            starts = np.flatnonzero((found >= 0) & (batch.doc[: len(hashes)] == batch.doc[length - 1 :]))
            found = found[starts]
            # A hit is the word only if the characters are its characters (a hash can collide).
            window = np.lib.stride_tricks.sliding_window_view(batch.codes, length)[starts]
            spelled = (window == self.spelling[found, :length]).all(axis=1)
            spelled &= self.spelling[found, length - 1] >= 0
            if length < self.high:
                spelled &= self.spelling[found, length] < 0
            docs.append(batch.doc[starts[spelled]])
            columns.append(found[spelled])
        if not docs:
            return _EMPTY, _EMPTY, _EMPTY
        return _count(np.concatenate(docs), np.concatenate(columns), self.n_columns)

    @classmethod
    def of(cls, vectorizer: TfidfVectorizer) -> _LexiconWords | None:
        analyzer = vectorizer.analyzer
        if not isinstance(vectorizer, LexiconTfidf) or not isinstance(analyzer, LexiconWords):
            return None
        return cls(vectorizer.vocabulary_, analyzer.lengths, analyzer.max_chars)


class _Terms:
    """Any other view: its own analyzer, term by term (the jieba view of older models)."""

    def __init__(self, analyze: Callable[[str], list[str]], vocabulary: dict[str, int]) -> None:
        self.analyze = analyze
        self.vocabulary = vocabulary
        self.n_columns = len(vocabulary)

    def __call__(self, texts: Sequence[str]) -> Counts:
        lookup = self.vocabulary.get
        docs: list[int] = []
        columns: list[int] = []
        counts: list[int] = []
        for row, text in enumerate(texts):
            for term, count in Counter(self.analyze(text)).items():
                column = lookup(term)
                if column is not None:
                    docs.append(row)
                    columns.append(column)
                    counts.append(count)
        return (
            np.array(docs, dtype=np.int64),
            np.array(columns, dtype=np.int64),
            np.array(counts, dtype=np.int64),
        )


@dataclass(frozen=True)
class _View:
    count: Callable[[Sequence[str]], Counts]
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
        """The same matrix as the fitted ``FeatureUnion.transform`` (float64)."""
        if len(texts) > _CHUNK:
            return sp.vstack(
                [self._transform(texts[start : start + _CHUNK]) for start in range(0, len(texts), _CHUNK)],
                format="csr",
            )
        return self._transform(texts)

    def _transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        n = len(texts)
        parts = []
        for view in self._views:
            row, column, count = view.count(texts)  # row by row, as every counter gives them
            tf = count.astype(np.float64)
            if view.sublinear:
                tf = np.log(tf) + 1.0
            weighted = tf * view.idf[column]
            norms = np.sqrt(np.bincount(row, weights=weighted * weighted, minlength=n))
            weighted /= norms[row]
            parts.append((row, column + view.offset, weighted, np.bincount(row, minlength=n)))
        # Interleave the views row by row: each view's part of a row follows the earlier views'.
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(sum((part[3] for part in parts), np.zeros(n, dtype=np.int64)), out=indptr[1:])
        indices = np.empty(indptr[-1], dtype=np.int64)
        data = np.empty(indptr[-1], dtype=np.float64)
        next_free = indptr[:-1].copy()
        for row, column, weighted, per_row in parts:
            view_start = np.cumsum(per_row) - per_row
            where = next_free[row] + np.arange(len(row)) - view_start[row]
            indices[where] = column
            data[where] = weighted
            next_free += per_row
        return sp.csr_matrix((data, indices, indptr), shape=(n, self._n_features))

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
    count: Callable[[Sequence[str]], Counts] | None = _LexiconWords.of(vectorizer) or _CharGrams.of(
        vectorizer
    )
    if count is None:
        count = _Terms(vectorizer.build_analyzer(), vectorizer.vocabulary_)
    return _View(
        count=count,
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
