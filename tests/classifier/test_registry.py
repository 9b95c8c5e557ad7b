"""Model folder: promote only if not worse, roll back, hot swap, survive corrupt files."""

import json
import logging
from dataclasses import replace
from pathlib import Path

import pytest

from classifier.artifact import ArtifactError, load_artifact, read_metadata, save_artifact
from classifier.registry import ModelRegistry, RegistryError

from .conftest import store

ALERTS = "classifier.alerts"


def test_first_promotion_activates_and_serves(model_dir):
    registry = ModelRegistry(model_dir, check_interval=0)
    assert registry.active() is None
    assert registry.predict("小区电梯坏了").reason == "no_model"
    decision = registry.promote("good-1")
    assert decision.accepted
    assert registry.active_version() == "good-1"
    assert registry.predict("小区电梯坏了").model_version == "good-1"


def test_list_shows_every_artifact_with_metadata(model_dir, bad_model):
    store(model_dir, bad_model)
    (model_dir / "junk.model").write_bytes(b"not a model")
    infos = {info.version: info for info in ModelRegistry(model_dir).list()}
    assert set(infos) == {"good-1", "bad-1", "junk"}
    assert infos["good-1"].metadata is not None
    assert infos["good-1"].metadata.labels == tuple(sorted(infos["good-1"].metadata.labels))
    assert infos["junk"].metadata is None and infos["junk"].error


def test_artifact_metadata_is_complete(model_dir):
    metadata = read_metadata(model_dir / "good-1.model")
    assert len(metadata.training_sha256) == 64
    assert metadata.trained_at.endswith("+00:00")
    assert set(metadata.libraries) >= {"python", "sklearn", "numpy", "jieba"}
    assert metadata.metrics["holdout"]["macro_f1"] > 0
    assert len(metadata.labels) == 7


def test_promote_refuses_a_worse_candidate_on_held_back_rows(model_dir, bad_model, demo_split):
    store(model_dir, bad_model)
    registry = ModelRegistry(model_dir, check_interval=0)
    registry.promote("good-1")
    decision = registry.promote("bad-1", holdout=demo_split[1])
    assert not decision.accepted
    assert decision.candidate_score < decision.current_score
    assert registry.active_version() == "good-1"


def test_promote_without_rows_compares_training_time_scores(model_dir, bad_model):
    store(model_dir, bad_model)
    registry = ModelRegistry(model_dir, check_interval=0)
    registry.promote("good-1")
    assert not registry.promote("bad-1").accepted
    assert registry.promote("bad-1", force=True).accepted
    assert registry.active_version() == "bad-1"


def test_promote_accepts_an_equal_candidate_and_rollback_restores(model_dir, other_good_model, demo_split):
    store(model_dir, other_good_model)
    registry = ModelRegistry(model_dir, check_interval=0)
    registry.promote("good-1")
    assert registry.promote("good-2", holdout=demo_split[1]).accepted
    assert registry.active_version() == "good-2"
    assert registry.rollback() == "good-1"
    assert registry.active_version() == "good-1"
    assert registry.active().version == "good-1"
    with pytest.raises(RegistryError):
        registry.rollback()


def test_promote_unknown_or_corrupt_version_is_refused(model_dir):
    (model_dir / "broken.model").write_bytes(b"hotline-classifier\n{}")
    registry = ModelRegistry(model_dir)
    for version in ("nope", "broken", "../etc/passwd"):
        with pytest.raises(RegistryError):
            registry.promote(version)


def test_hot_swap_picks_up_a_promotion_from_another_process(model_dir, other_good_model):
    clock = [0.0]
    serving = ModelRegistry(model_dir, check_interval=5, clock=lambda: clock[0])
    admin = ModelRegistry(model_dir)  # stands for the manage.py process
    admin.promote("good-1")
    assert serving.predict("噪音扰民").model_version == "good-1"

    store(model_dir, other_good_model)
    admin.promote("good-2", force=True)
    clock[0] += 1  # within the check interval: no stat, still the old model
    assert serving.predict("噪音扰民").model_version == "good-1"
    clock[0] += 5
    assert serving.predict("噪音扰民").model_version == "good-2"


def _corrupt_variants(path: Path, trained) -> dict[str, bytes]:
    good = path.read_bytes()
    old_sklearn = replace(trained.metadata, libraries={**trained.metadata.libraries, "sklearn": "0.24.2"})
    skewed = path.with_name("skewed.model")
    save_artifact(skewed, trained.classifier, old_sklearn)
    header_end = good.index(b"\n", len(b"hotline-classifier\n")) + 1
    header = json.loads(good[len(b"hotline-classifier\n") : header_end])
    del header["metadata"]["labels"]
    return {
        "truncated": good[: len(good) // 2],
        "flipped byte": good[:-10] + bytes([good[-10] ^ 0xFF]) + good[-9:],
        "bad pickle": good[:header_end] + b"\x80\x05garbage",
        "not ours": b"\x80\x04K\x01.",
        "wrong sklearn": skewed.read_bytes(),
        "missing metadata": b"hotline-classifier\n" + json.dumps(header).encode() + good[header_end:],
        "empty": b"",
    }


@pytest.mark.parametrize(
    "damage",
    [
        "truncated",
        "flipped byte",
        "bad pickle",
        "not ours",
        "wrong sklearn",
        "missing metadata",
        "empty",
    ],
)
def test_corrupt_active_model_falls_back_to_previous_with_an_alert(model_dir, other_good_model, caplog, damage):
    path2 = store(model_dir, other_good_model)
    admin = ModelRegistry(model_dir)
    admin.promote("good-1")
    admin.promote("good-2", force=True)
    path2.write_bytes(_corrupt_variants(path2, other_good_model)[damage])
    with pytest.raises(ArtifactError):
        load_artifact(path2)

    caplog.set_level(logging.WARNING, logger=ALERTS)
    serving = ModelRegistry(model_dir, check_interval=0)
    prediction = serving.predict("公司拖欠工资")
    assert prediction.model_version == "good-1"
    assert serving.serving_version == "good-1"
    alerts = [r for r in caplog.records if r.name == ALERTS]
    assert any("good-2" in r.getMessage() for r in alerts)


def test_no_loadable_model_means_unsure_and_a_critical_alert(model_dir, caplog):
    ModelRegistry(model_dir).promote("good-1")
    (model_dir / "good-1.model").write_bytes(b"garbage")
    caplog.set_level(logging.WARNING, logger=ALERTS)
    prediction = ModelRegistry(model_dir, check_interval=0).predict("公交车太少")
    assert prediction.unsure and prediction.reason == "no_model"
    assert any(r.levelno == logging.CRITICAL for r in caplog.records if r.name == ALERTS)


def test_a_swap_to_a_corrupt_model_keeps_serving_the_loaded_one(model_dir, other_good_model, caplog):
    serving = ModelRegistry(model_dir, check_interval=0)
    admin = ModelRegistry(model_dir)
    admin.promote("good-1")
    assert serving.predict("噪音").model_version == "good-1"
    path2 = store(model_dir, other_good_model)
    admin.promote("good-2", force=True)
    path2.write_bytes(b"hotline-classifier\nnot json")
    caplog.set_level(logging.WARNING, logger=ALERTS)
    assert serving.predict("噪音").model_version == "good-1"
    assert any(r.name == ALERTS for r in caplog.records)


def test_unreadable_pointer_is_an_alert_not_a_crash(model_dir, caplog):
    (model_dir / "ACTIVE.json").write_text("{not json", encoding="utf-8")
    caplog.set_level(logging.WARNING, logger=ALERTS)
    assert ModelRegistry(model_dir, check_interval=0).predict("噪音").reason == "no_model"
    assert any(r.name == ALERTS for r in caplog.records)


def test_artifacts_are_written_atomically(tmp_path, good_model):
    target = tmp_path / "m" / "x.model"
    save_artifact(target, good_model.classifier, good_model.metadata)
    save_artifact(target, good_model.classifier, good_model.metadata)
    assert [p.name for p in target.parent.iterdir()] == ["x.model"]
    assert load_artifact(target)[1].version == "good-1"


def test_concurrent_first_starts_train_one_default_model(tmp_path):
    """Every web and Celery worker calls ensure_default_model on start."""
    import multiprocessing

    from classifier.default_model import ensure_default_model

    context = multiprocessing.get_context("fork")
    with context.Pool(3) as pool:
        versions = pool.map(ensure_default_model, [tmp_path] * 3)
    assert len(set(versions)) == 1
    assert len(list(tmp_path.glob("*.model"))) == 1


def test_published_files_are_readable_by_other_service_users(model_dir):
    ModelRegistry(model_dir).promote("good-1")
    for name in ("good-1.model", "ACTIVE.json"):
        assert (model_dir / name).stat().st_mode & 0o777 == 0o644
