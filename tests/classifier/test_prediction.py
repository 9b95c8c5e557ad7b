"""Any message gets an answer: a ranked suggestion or an explicit 'unsure', never an error."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifier.prediction import Prediction

HOSTILE = [
    "",
    "   \n\t  ",
    None,
    "噪音" * 50_000,  # 100,000 characters
    "The street lights on my road have been broken for two weeks.",
    "😡😡😡🚧🚗💨",
    "東湖區陽光花園電梯壞了，物業不處理",  # traditional characters
    "！？。，、；：……——",
    "\ud800\udfff\ud83d",  # lone surrogates
    "\x00\x01\x02\x1b[31m",
    "ＡＢＣ　１２３",
    "a",
    12345,
    b"\xff\xfe\xfd",
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_gets_a_prediction_or_unsure(good_model, text):
    prediction = good_model.classifier.predict(text)
    assert isinstance(prediction, Prediction)
    assert prediction.unsure or prediction.label in good_model.metadata.labels
    assert prediction.model_version == "good-1"


def test_empty_and_unknown_text_is_unsure(good_model):
    classifier = good_model.classifier
    assert classifier.predict("").reason == "no_text"
    assert classifier.predict("😡😡😡").unsure


def assert_well_formed(prediction: Prediction, k: int) -> None:
    probabilities = [item.probability for item in prediction.top_k]
    assert len(probabilities) <= k
    assert probabilities == sorted(probabilities, reverse=True)
    assert all(0.0 <= p <= 1.0 for p in probabilities)
    assert sum(probabilities) <= 1.0 + 1e-9


@settings(deadline=None, max_examples=60)
@given(st.text(max_size=300), st.integers(min_value=1, max_value=9))
def test_top_k_is_sorted_and_sums_to_at_most_one(good_model, text, k):
    assert_well_formed(good_model.classifier.predict(text, k=k), k)


def test_a_clear_request_names_its_category_and_the_words_behind_it(good_model):
    prediction = good_model.classifier.predict("南城区人民路的烧烤店油烟直排，晚上还有噪音扰民")
    assert_well_formed(prediction, 3)
    assert prediction.label == "环境保护"
    assert not prediction.unsure
    assert "油烟" in prediction.terms
    assert all(len(term) >= 2 for term in prediction.terms)
    as_dict = prediction.as_dict()
    assert as_dict["label"] == "环境保护" and as_dict["model_version"] == "good-1"


def test_batch_prediction_matches_one_by_one(good_model):
    texts = ["公司拖欠工资三个月", "", "孩子入学没有学位"]
    batch = good_model.classifier.predict_many(texts)
    assert [p.label for p in batch] == [good_model.classifier.predict(t).label for t in texts]


def test_fast_path_reproduces_scikit_learn(good_model, demo_rows):
    from classifier.features import normalize_many

    classifier = good_model.classifier
    assert classifier._fast is not None
    texts = normalize_many([text for text, _ in demo_rows[:60]] + HOSTILE)
    fast = classifier._fast.predict_proba(classifier._fast.transform(texts))
    reference = classifier.estimator.predict_proba(classifier.features.transform(texts))
    assert abs(fast - reference).max() < 1e-5


def test_without_the_fast_path_answers_are_the_same(good_model, monkeypatch):
    from classifier import model as model_module

    monkeypatch.setattr(model_module, "build_fast_scorer", lambda *args: None)
    slow = model_module.TextClassifier(good_model.classifier.features, good_model.classifier.estimator, version="slow")
    assert slow._fast is None
    texts = ["公司拖欠工资三个月", "", "😡", "孩子入学没有学位，教育局不管"]
    for fast_p, slow_p in zip(good_model.classifier.predict_many(texts), slow.predict_many(texts), strict=True):
        assert fast_p.label == slow_p.label and fast_p.terms == slow_p.terms
        assert abs(fast_p.confidence - slow_p.confidence) < 1e-5
