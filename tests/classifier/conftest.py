"""Small models trained once per test session from the bundled demo sentences."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from classifier.artifact import save_artifact
from classifier.default_model import DEMO_CONFIG, DEMO_TRAIN_PATH
from classifier.training import TrainedModel, read_csv_rows, train_model

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO_ROOT / ".." / "shared" / "data"

Rows = list[tuple[str, str]]


@pytest.fixture(scope="session")
def demo_rows() -> Rows:
    return read_csv_rows(DEMO_TRAIN_PATH)


@pytest.fixture(scope="session")
def demo_split(demo_rows: Rows) -> tuple[Rows, Rows]:
    """Demo rows split into (training, held back): every 5th row of each label is held back."""
    train: Rows = []
    held: Rows = []
    seen: dict[str, int] = {}
    for text, label in demo_rows:
        seen[label] = seen.get(label, 0) + 1
        (held if seen[label] % 5 == 0 else train).append((text, label))
    return train, held


@pytest.fixture(scope="session")
def good_model(demo_split: tuple[Rows, Rows]) -> TrainedModel:
    return train_model(demo_split[0], config=DEMO_CONFIG, version="good-1")


@pytest.fixture(scope="session")
def other_good_model(demo_split: tuple[Rows, Rows]) -> TrainedModel:
    return train_model(demo_split[0], config=DEMO_CONFIG, version="good-2", seed=1)


@pytest.fixture(scope="session")
def bad_model(demo_split: tuple[Rows, Rows]) -> TrainedModel:
    """Trained on the same texts with the labels shuffled: confidently wrong."""
    texts = [text for text, _ in demo_split[0]]
    labels = [label for _, label in demo_split[0]]
    random.Random(7).shuffle(labels)
    return train_model(list(zip(texts, labels, strict=True)), config=DEMO_CONFIG, version="bad-1")


@pytest.fixture
def model_dir(tmp_path: Path, good_model: TrainedModel) -> Path:
    """A model folder holding good-1 (not yet active)."""
    folder = tmp_path / "models"
    save_artifact(folder / "good-1.model", good_model.classifier, good_model.metadata)
    return folder


def store(folder: Path, trained: TrainedModel) -> Path:
    """Write a trained model into a model folder under its version name."""
    return save_artifact(folder / f"{trained.metadata.version}.model", trained.classifier, trained.metadata)
