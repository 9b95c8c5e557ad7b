"""Training: rows of (text, label) in, a fitted classifier and its metadata out."""

from __future__ import annotations

import csv
import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.svm import LinearSVC

from classifier.artifact import ModelMetadata, library_versions
from classifier.evaluation import EvaluationReport, score
from classifier.features import FeatureConfig, build_features, normalize_many
from classifier.model import DEFAULT_UNSURE_BELOW, TextClassifier, label_counts

Row = tuple[str, str]
Progress = Callable[[str], None]


@dataclass(frozen=True)
class ModelConfig:
    """Everything that shapes a model besides its data."""

    features: FeatureConfig = field(default_factory=FeatureConfig)
    svm_c: float = 0.5
    # Reweights classes inversely to their frequency: 交通运输 has a third of 城乡建设's rows.
    balanced: bool = True
    calibration_folds: int = 3
    unsure_below: float = DEFAULT_UNSURE_BELOW


@dataclass(frozen=True)
class TrainedModel:
    classifier: TextClassifier
    metadata: ModelMetadata


def read_csv_rows(path: str | Path) -> list[Row]:
    """Rows of a UTF-8 CSV with a header holding ``text`` and ``label`` (other columns ignored).

    Rows with an empty label are skipped (unlabelled messages); a missing column is an error.
    """
    with Path(path).open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"text", "label"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        return [
            (row["text"] or "", row["label"].strip())
            for row in reader
            if row.get("label") and row["label"].strip()
        ]


def clean_rows(rows: Iterable[Sequence[object]]) -> list[Row]:
    """Keep rows with a label, as (str text, stripped label) pairs."""
    cleaned: list[Row] = []
    for row in rows:
        text, label = row[0], row[1]
        label_text = str(label).strip() if label is not None else ""
        if label_text:
            cleaned.append(("" if text is None else str(text), label_text))
    return cleaned


def training_sha256(rows: Sequence[Row]) -> str:
    """A fingerprint of the training data (order-sensitive, as training is)."""
    digest = hashlib.sha256()
    for text, label in rows:
        digest.update(label.encode("utf-8", "surrogatepass"))
        digest.update(b"\t")
        digest.update(text.encode("utf-8", "surrogatepass"))
        digest.update(b"\n")
    return digest.hexdigest()


def build_estimator(config: ModelConfig, smallest_class: int) -> CalibratedClassifierCV:
    """A linear SVM with sigmoid calibration fitted on internal folds.

    ``ensemble=False``: one SVM on all rows (one set of weights, small file, fast) whose
    decision values are mapped to probabilities by sigmoids fitted on cross-validated
    decision values.
    """
    folds = min(config.calibration_folds, smallest_class)
    if folds < 2:
        raise ValueError("every category needs at least 2 examples to train a model")
    return CalibratedClassifierCV(
        LinearSVC(C=config.svm_c, class_weight="balanced" if config.balanced else None),
        method="sigmoid",
        cv=folds,
        ensemble=False,
    )


def fit_classifier(
    texts: Sequence[str], labels: Sequence[str], config: ModelConfig
) -> TextClassifier:
    """Fit features and estimator on the given rows (no metadata, no evaluation)."""
    counts = label_counts(labels)
    if len(counts) < 2:
        raise ValueError("training needs at least 2 categories")
    normalised = normalize_many(texts)
    features = build_features(config.features)
    matrix = features.fit_transform(normalised)
    estimator = build_estimator(config, min(counts.values()))
    estimator.fit(matrix, list(labels))
    return TextClassifier(features, estimator, unsure_below=config.unsure_below)


def _holdout_split(
    texts: Sequence[str], labels: Sequence[str], fraction: float, seed: int
) -> tuple[list[int], list[int]] | None:
    counts = label_counts(labels)
    n_test = round(len(labels) * fraction)
    if fraction <= 0 or min(counts.values()) < 4 or n_test < len(counts):
        return None
    indices = list(range(len(labels)))
    train, test = train_test_split(
        indices, test_size=n_test, stratify=list(labels), random_state=seed
    )
    return list(train), list(test)


def train_model(
    rows: Iterable[Sequence[object]],
    *,
    config: ModelConfig | None = None,
    holdout_fraction: float = 0.1,
    seed: int = 0,
    version: str | None = None,
    version_prefix: str = "",
    progress: Progress | None = None,
) -> TrainedModel:
    """Train a model with metadata.

    First a stratified ``holdout_fraction`` of the rows is held back and scored (the
    ``holdout`` metrics: a promotion compares these when no common slice is given), then
    the final model is refitted on all rows.
    """
    config = config or ModelConfig()
    say = progress or (lambda message: None)
    data = clean_rows(rows)
    if not data:
        raise ValueError("no labelled rows to train on")
    texts = [text for text, _ in data]
    labels = [label for _, label in data]
    counts = label_counts(labels)
    say(
        f"{len(data)} rows, {len(counts)} categories: "
        + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    )
    metrics: dict[str, Any] = {}
    split = _holdout_split(texts, labels, holdout_fraction, seed)
    if split is not None:
        train_idx, test_idx = split
        say(f"fitting on {len(train_idx)} rows, holding back {len(test_idx)} …")
        started = time.perf_counter()
        held = fit_classifier([texts[i] for i in train_idx], [labels[i] for i in train_idx], config)
        report = score(
            [labels[i] for i in test_idx], held.predict_labels([texts[i] for i in test_idx])
        )
        metrics["holdout"] = _metrics_of(report, time.perf_counter() - started)
        say(f"held-back slice: {report.summary_line()}")
    say(f"fitting the final model on all {len(data)} rows …")
    started = time.perf_counter()
    classifier = fit_classifier(texts, labels, config)
    metrics["fit_seconds"] = round(time.perf_counter() - started, 2)
    say(f"fitted in {metrics['fit_seconds']} s")
    trained_at = datetime.now(UTC)
    sha = training_sha256(data)
    metadata = ModelMetadata(
        version=version or f"{version_prefix}{trained_at:%Y%m%dT%H%M%S}Z-{sha[:8]}",
        labels=classifier.labels,
        training_sha256=sha,
        trained_at=trained_at.isoformat(timespec="seconds"),
        n_train=len(data),
        metrics=metrics,
        libraries=library_versions(),
        config=_config_dict(config),
        unsure_below=config.unsure_below,
    )
    classifier.version = metadata.version
    return TrainedModel(classifier, metadata)


def cross_validate(
    rows: Iterable[Sequence[object]],
    *,
    config: ModelConfig | None = None,
    folds: int = 5,
    seed: int = 42,
    progress: Progress | None = None,
) -> EvaluationReport:
    """Stratified k-fold cross-validation; the report pools every fold's predictions."""
    config = config or ModelConfig()
    data = clean_rows(rows)
    texts = [text for text, _ in data]
    labels = [label for _, label in data]
    predicted = [""] * len(data)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fold, (train_idx, test_idx) in enumerate(splitter.split(texts, labels), start=1):
        model = fit_classifier(
            [texts[i] for i in train_idx], [labels[i] for i in train_idx], config
        )
        for index, label in zip(
            test_idx, model.predict_labels([texts[i] for i in test_idx]), strict=True
        ):
            predicted[index] = label
        if progress:
            progress(f"fold {fold}/{folds} done")
    return score(labels, predicted)


def _metrics_of(report: EvaluationReport, seconds: float) -> dict[str, Any]:
    return {
        "macro_f1": round(report.macro_f1, 4),
        "accuracy": round(report.accuracy, 4),
        "n": report.n,
        "fit_seconds": round(seconds, 2),
    }


def _config_dict(config: ModelConfig) -> dict[str, Any]:
    return asdict(config)
