"""What the management commands do, free of Django so it can be called and tested anywhere.

Each function writes human-readable progress to ``out`` and returns its result; the Django
commands in ``management/commands`` only parse arguments, read settings and call these.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Protocol

from classifier.artifact import load_artifact, save_artifact
from classifier.evaluation import EvaluationReport, evaluate
from classifier.promotion import PromotionDecision
from classifier.registry import ModelRegistry, RegistryError
from classifier.training import read_csv_rows, train_model


class Output(Protocol):
    """Where progress goes: a text stream or Django's ``OutputWrapper``."""

    def write(self, msg: str, /) -> object: ...


class CommandError(Exception):
    """A failure to report to the operator (the Django wrapper turns it into CommandError)."""


def rows_from_callable(dotted_path: str) -> list[tuple[str, str]]:
    """Call ``package.module.function`` (e.g. confirmed closed tickets) and collect its rows."""
    module_name, _, attribute = dotted_path.rpartition(".")
    if not module_name:
        raise CommandError(f"not a dotted path: {dotted_path!r}")
    try:
        source: Callable[[], Iterable[Sequence[object]]] = getattr(
            importlib.import_module(module_name), attribute
        )
    except (ImportError, AttributeError) as exc:
        raise CommandError(f"cannot import {dotted_path}: {exc}") from exc
    return [(str(row[0]), str(row[1])) for row in source()]


def train_command(
    *,
    out: Output,
    csv_path: str | None = None,
    rows_callable: str | None = None,
    out_path: str | None = None,
    model_dir: str | None = None,
) -> Path:
    """Train from a CSV (or the configured rows callable) and write a versioned artifact.

    With ``out_path`` the artifact goes there and nothing is registered; otherwise it is
    stored in ``model_dir`` (registered, not promoted: see ``classifier_promote``).
    """
    if csv_path:
        rows = read_csv_rows(csv_path)
        source = csv_path
    elif rows_callable:
        rows = rows_from_callable(rows_callable)
        source = rows_callable
    else:
        raise CommandError("give --csv PATH or set CLASSIFIER_TRAINING_ROWS")
    out.write(f"training on {source}\n")

    def progress(message: str) -> None:
        out.write(f"  {message}\n")

    try:
        trained = train_model(rows, progress=progress)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    if out_path:
        target = save_artifact(Path(out_path), trained.classifier, trained.metadata)
        out.write(f"model {trained.metadata.version} written to {target}\n")
        return target
    if not model_dir:
        raise CommandError("give --out PATH or set CLASSIFIER_MODEL_DIR")
    registry = ModelRegistry(model_dir)
    version = registry.add(trained.classifier, trained.metadata)
    target = registry.path_for(version)
    out.write(f"model {version} written to {target}\n")
    out.write(f"activate it with: manage.py classifier_promote {version}\n")
    return target


def evaluate_command(
    *, out: Output, csv_path: str, model_path: str | None = None, model_dir: str | None = None
) -> EvaluationReport:
    """Score a model on a labelled CSV; the last line written is the summary line."""
    if model_path:
        model, metadata = load_artifact(Path(model_path))
        version = metadata.version
    else:
        if not model_dir:
            raise CommandError("give --model PATH or set CLASSIFIER_MODEL_DIR")
        registry = ModelRegistry(model_dir, check_interval=0)
        loaded = registry.active()
        if loaded is None:
            raise CommandError(f"no active model in {model_dir}")
        model, version = loaded, registry.serving_version or "?"
    rows = read_csv_rows(csv_path)
    report = evaluate(model, rows)
    out.write(f"model {version} on {csv_path}\n\n{report.per_class}\n")
    out.write(report.confusion_table() + "\n\n")
    out.write(report.summary_line() + "\n")
    return report


def promote_command(
    *,
    out: Output,
    model_dir: str,
    version: str,
    csv_path: str | None = None,
    force: bool = False,
) -> PromotionDecision:
    """Activate ``version`` if it is not worse than the active model."""
    registry = ModelRegistry(model_dir)
    holdout = read_csv_rows(csv_path) if csv_path else None
    try:
        decision = registry.promote(version, holdout=holdout, force=force)
    except RegistryError as exc:
        raise CommandError(str(exc)) from exc
    verdict = "promoted" if decision.accepted else "refused"
    out.write(f"{verdict} {version}: {decision.reason}\n")
    return decision


def rollback_command(*, out: Output, model_dir: str) -> str:
    """Re-activate the previously active model."""
    try:
        version = ModelRegistry(model_dir).rollback()
    except RegistryError as exc:
        raise CommandError(str(exc)) from exc
    out.write(f"active model is now {version}\n")
    return version


def list_command(*, out: Output, model_dir: str) -> None:
    """Print every model in the folder, marking the active one."""
    registry = ModelRegistry(model_dir)
    active = registry.active_version()
    for info in registry.list():
        mark = "*" if info.version == active else " "
        if info.metadata is None:
            out.write(f"{mark} {info.version}  UNREADABLE: {info.error}\n")
            continue
        f1 = info.metadata.holdout_macro_f1()
        score = f"held-back macro-F1 {f1:.4f}" if f1 is not None else "no held-back score"
        out.write(
            f"{mark} {info.version}  trained {info.metadata.trained_at}  "
            f"n={info.metadata.n_train}  {score}\n"
        )
