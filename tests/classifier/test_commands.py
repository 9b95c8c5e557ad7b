"""manage.py train_classifier / evaluate_classifier / classifier_promote / classifier_rollback."""

import csv
import io
import os
import re
from pathlib import Path

import pytest

from classifier import commands
from classifier.default_model import DEMO_TRAIN_PATH
from classifier.registry import ModelRegistry

SUMMARY = re.compile(r"^macro_f1=\d\.\d{4} accuracy=\d\.\d{4} n=\d+$")


@pytest.fixture
def django_settings(tmp_path):
    """Django configured (the project's settings, or a minimal module) with a fresh model dir."""
    import django
    from django.conf import settings

    if not settings.configured:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.classifier.settings_for_commands")
        django.setup()
    from django.test import override_settings

    model_dir = tmp_path / "models"
    with override_settings(CLASSIFIER_MODEL_DIR=str(model_dir), CLASSIFIER_TRAINING_ROWS=None):
        yield model_dir


def call(*args: str) -> str:
    from django.core.management import call_command

    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def write_csv(path: Path, rows) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "label"])
        writer.writerows((f"r{i}", text, label) for i, (text, label) in enumerate(rows))
    return path


def test_train_then_evaluate_prints_the_summary_as_last_line(django_settings, tmp_path):
    model_path = tmp_path / "out.model"
    output = call("train_classifier", "--csv", str(DEMO_TRAIN_PATH), "--out", str(model_path))
    assert str(model_path) in output and model_path.exists()
    assert "held-back slice" in output

    output = call("evaluate_classifier", "--csv", str(DEMO_TRAIN_PATH), "--model", str(model_path))
    lines = output.rstrip("\n").splitlines()
    assert SUMMARY.match(lines[-1]), lines[-1]
    assert lines[-1].endswith("n=303")
    assert "confusion matrix" in output and "劳动和社会保障" in output


def test_train_into_the_model_dir_then_promote_evaluate_and_rollback(django_settings, demo_split, tmp_path):
    train_csv = write_csv(tmp_path / "train.csv", demo_split[0])
    held_csv = write_csv(tmp_path / "held.csv", demo_split[1])
    call("train_classifier", "--csv", str(train_csv))
    call("train_classifier", "--csv", str(train_csv))
    registry = ModelRegistry(django_settings)
    first, second = (info.version for info in registry.list())

    assert "promoted" in call("classifier_promote", first)
    last = call("evaluate_classifier", "--csv", str(held_csv)).splitlines()[-1]
    assert SUMMARY.match(last) and last.endswith(f"n={len(demo_split[1])}")

    assert "promoted" in call("classifier_promote", second, "--csv", str(held_csv))
    assert registry.active_version() == second
    assert first in call("classifier_rollback")
    assert registry.active_version() == first


def test_command_failures_are_command_errors(django_settings, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call("classifier_rollback")
    with pytest.raises(CommandError):
        call("classifier_promote", "no-such-version")
    with pytest.raises(CommandError):
        call("train_classifier")  # no --csv and no CLASSIFIER_TRAINING_ROWS
    with pytest.raises(CommandError):
        call("evaluate_classifier", "--csv", str(DEMO_TRAIN_PATH))  # nothing active


def confirmed_ticket_rows():
    """Stands in for tickets.core.selectors.classifier_training_rows."""
    with DEMO_TRAIN_PATH.open(encoding="utf-8") as handle:
        return [(row["text"], row["label"]) for row in csv.DictReader(handle)]


def test_training_rows_can_come_from_a_configured_callable(tmp_path):
    out = io.StringIO()
    target = commands.train_command(
        out=out,
        rows_callable=f"{__name__}.confirmed_ticket_rows",
        out_path=str(tmp_path / "m.model"),
    )
    assert target.exists()
    assert "303 rows, 7 categories" in out.getvalue()
