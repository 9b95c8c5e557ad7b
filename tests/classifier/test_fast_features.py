"""The batch path's features: the lexicon view and the vectorised counters equal scikit-learn's."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from classifier import fastpath
from classifier.features import FeatureConfig, LexiconWords, build_features, normalize_many, word_tokens
from classifier.model import TextClassifier
from classifier.segment import segment

# Chinese, Latin, digits, spaces, punctuation, astral emoji: what citizens type.
TEXTS = st.text(
    alphabet=st.sampled_from([*"噪音扰民油烟烧烤店东湖区人民路工资拖欠学位 ab1，。！", "😡", "𠀀"]),
    max_size=260,
)


def test_the_lexicon_is_what_jieba_segments_and_every_occurrence_is_read():
    texts = ["东湖区人民路烧烤店油烟扰民", "公司拖欠工资三个月了"]
    words = LexiconWords(max_chars=200, lengths=(2, 6))
    words.learn(texts)
    assert words.words == {w for text in texts for w in segment(text) if 2 <= len(w) <= 6}
    assert {"东湖区", "烧烤店", "拖欠工资"} <= words.words
    # Read by lookup: overlapping and repeated occurrences all count, wherever they stand.
    words.words = frozenset({"油烟", "扰民", "油烟扰民"})
    assert words("油烟扰民，扰民") == ["油烟", "油烟扰民", "扰民", "扰民"]
    assert words("x" * 199 + "油烟") == []  # beyond the first 200 characters


def test_a_fitted_lexicon_keeps_only_the_words_that_became_features():
    union = build_features(FeatureConfig(min_df=2))
    union.fit(normalize_many(["小区油烟扰民", "餐馆油烟很大", "拖欠工资"]))
    word_view = union.transformer_list[0][1]
    assert word_view.analyzer.words == frozenset(word_view.vocabulary_)
    assert "油烟" in word_view.vocabulary_ and "工资" not in word_view.vocabulary_


@settings(deadline=None, max_examples=80)
@given(st.lists(TEXTS, min_size=1, max_size=12))
def test_vectorised_counters_give_scikit_learns_matrix(good_model, texts):
    classifier = good_model.classifier
    normalised = normalize_many(texts)
    fast = classifier._fast.transform(normalised)
    reference = classifier.features.transform(normalised).tocsr()
    assert fast.shape == reference.shape
    assert fast.nnz == reference.nnz
    assert (abs(fast - reference) > 1e-6).nnz == 0


def test_each_view_has_its_vectorised_counter(good_model):
    kinds = [type(view.count) for view in good_model.classifier._fast._views]
    assert kinds == [fastpath._LexiconWords, fastpath._CharGrams, fastpath._CharGrams]


def test_a_hash_collision_never_adds_a_word(good_model):
    """A window whose hash is a word's hash but whose characters are not counts nothing."""
    scorer = fastpath.build_fast_scorer(good_model.classifier.features, good_model.classifier.estimator)
    view = scorer._views[0].count
    column = good_model.classifier.features.transformer_list[0][1].vocabulary_["油烟"]
    stranger = np.array([[ord("噪"), ord("声"), -1, -1, -1, -1]])
    collided = fastpath._word_hashes(stranger)[0]
    # Give "噪声" (not a word of the model) the slot of "油烟", as a 64-bit collision would.
    keys = view.table.keys[view.table.keys >= 0]
    columns = view.table.columns[view.table.keys >= 0]
    keys = np.append(keys[columns != column], np.int64(collided >> np.uint64(1)))
    columns = np.append(columns[columns != column], column)
    assert column in view(["噪声很大，油烟"])[1]  # the word itself is still found
    view.table = fastpath._KeyTable(keys, columns)
    assert view.table.find(np.array([collided >> np.uint64(1)], dtype=np.int64))[0] == column
    assert column not in view(["噪声很大"])[1]


@settings(deadline=None, max_examples=40)
@given(
    st.sets(st.integers(min_value=0, max_value=2**62), min_size=1, max_size=300),
    st.lists(st.integers(min_value=0, max_value=2**62), max_size=100),
)
def test_the_key_table_finds_every_key_and_nothing_else(keys, others):
    keys_array = np.array(sorted(keys), dtype=np.int64)
    table = fastpath._KeyTable(keys_array, np.arange(len(keys_array)) * 3)
    assert table.find(keys_array).tolist() == (np.arange(len(keys_array)) * 3).tolist()
    misses = np.array([value for value in others if value not in keys], dtype=np.int64)
    assert (table.find(misses) == -1).all()


def test_a_model_with_the_older_jieba_word_view_still_takes_the_fast_path(demo_rows):
    """Models trained before the lexicon view name `word_tokens` in their pickles."""
    texts = normalize_many([text for text, _ in demo_rows])
    labels = [label for _, label in demo_rows]
    common = {"sublinear_tf": True, "min_df": 1, "dtype": np.float32}
    union = FeatureUnion(
        [
            ("word", TfidfVectorizer(analyzer=partial(word_tokens, max_chars=200), **common)),
            ("char", TfidfVectorizer(analyzer="char", ngram_range=(1, 2), lowercase=False, **common)),
        ]
    )
    estimator = CalibratedClassifierCV(LinearSVC(), method="sigmoid", cv=3, ensemble=False)
    estimator.fit(union.fit_transform(texts), labels)
    classifier = TextClassifier(union, estimator, version="old")
    assert classifier._fast is not None
    assert type(classifier._fast._views[0].count) is fastpath._Terms
    probes = normalize_many(["南城区烧烤店油烟扰民", "拖欠工资", "", "😡 abc"])
    fast = classifier._fast.predict_proba(classifier._fast.transform(probes))
    assert abs(fast - estimator.predict_proba(union.transform(probes))).max() < 1e-5


@pytest.mark.parametrize("size", [1, 10, 300])
def test_a_batch_explains_each_row_as_it_would_alone(good_model, demo_rows, size):
    texts = [text for text, _ in demo_rows[:size]]
    batch = good_model.classifier.predict_many(texts)
    alone = [good_model.classifier.predict(text) for text in texts]
    assert [p.terms for p in batch] == [p.terms for p in alone]
    assert [p.top_k for p in batch] == [p.top_k for p in alone]


def test_a_batch_has_one_code_point_per_character_whatever_the_text_holds():
    batch = fastpath._Batch(["a\ud800b", "", "噪😡"])
    assert batch.codes.tolist() == [ord("a"), 0xD800, ord("b"), ord("噪"), ord("😡")]
    assert batch.doc.tolist() == [0, 0, 0, 2, 2]
