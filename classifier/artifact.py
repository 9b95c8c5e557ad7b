"""Versioned model files: a readable metadata header, then the checksummed pickled model.

Layout of ``<version>.model``::

    hotline-classifier\n           magic line
    {"metadata": {...}, ...}\n     one line of JSON (``head -2 file`` shows it)
    payload bytes                  pickle({"features": ..., "estimator": ...})

The header carries the version, labels, training-data SHA-256, UTC training time, metrics,
library versions and the payload's SHA-256 and length. Loading checks the header and the
checksum *before* unpickling the payload, so a truncated or tampered file, or one written by
another scikit-learn minor version, is rejected without running its pickle. Files are written
to a temporary name in the target folder and ``os.replace``d into place: readers see the old
file or the new one, never half of one.

Pickles execute code when loaded: a model folder must be writable only by the service.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import platform
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import jieba
import numpy
import scipy
import sklearn
from sklearn.exceptions import InconsistentVersionWarning

from classifier.atomic import write_atomically
from classifier.model import TextClassifier

FORMAT_VERSION = 1
ARTIFACT_SUFFIX = ".model"
_MAGIC = b"hotline-classifier\n"
_MAX_HEADER_BYTES = 1 << 20


class ArtifactError(Exception):
    """The file is not a usable model: unreadable, corrupt, incomplete or incompatible."""


@dataclass(frozen=True)
class ModelMetadata:
    """What is known about a model without loading it."""

    version: str
    labels: tuple[str, ...]
    training_sha256: str
    trained_at: str  # ISO 8601, UTC
    n_train: int
    metrics: dict[str, Any] = field(default_factory=dict)
    libraries: dict[str, str] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    unsure_below: float = 0.5
    format_version: int = FORMAT_VERSION

    def holdout_macro_f1(self) -> float | None:
        """Macro-F1 on the slice held back at training time, if one was measured."""
        value = self.metrics.get("holdout", {}).get("macro_f1")
        return float(value) if value is not None else None


def library_versions() -> dict[str, str]:
    """Versions that decide whether a pickled model can be trusted in this process."""
    return {
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "jieba": jieba.__version__,
    }


def _major_minor(version: str) -> tuple[str, ...]:
    return tuple(version.split(".")[:2])


def check_compatible(metadata: ModelMetadata) -> None:
    """Raise :class:`ArtifactError` if this process cannot safely use the model.

    scikit-learn does not promise pickles across minor versions; numpy across majors; a
    different jieba minor may segment differently than the vocabulary expects.
    """
    if metadata.format_version != FORMAT_VERSION:
        raise ArtifactError(f"artifact format {metadata.format_version} is not supported")
    running = library_versions()
    saved = metadata.libraries
    for name, width in (("sklearn", 2), ("jieba", 2), ("numpy", 1)):
        theirs = saved.get(name)
        if theirs is None:
            raise ArtifactError(f"metadata lacks the {name} version")
        if _major_minor(theirs)[:width] != _major_minor(running[name])[:width]:
            raise ArtifactError(
                f"trained with {name} {theirs}, running {running[name]}: retrain the model"
            )
    if not metadata.labels:
        raise ArtifactError("metadata has no labels")


def save_artifact(path: Path, classifier: TextClassifier, metadata: ModelMetadata) -> Path:
    """Write ``classifier`` with ``metadata`` to ``path`` atomically; return the path."""
    payload = pickle.dumps(
        {"features": classifier.features, "estimator": classifier.estimator},
        protocol=pickle.HIGHEST_PROTOCOL,
    )
    header = {
        "metadata": asdict(metadata),
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
        "payload_length": len(payload),
    }
    header_line = json.dumps(header, ensure_ascii=False).encode("utf-8") + b"\n"

    def write(handle: BinaryIO) -> None:
        handle.write(_MAGIC)
        handle.write(header_line)
        handle.write(payload)

    return write_atomically(Path(path), write)


def _read_header(handle: BinaryIO) -> dict[str, Any]:
    if handle.read(len(_MAGIC)) != _MAGIC:
        raise ArtifactError("not a hotline classifier artifact")
    line = handle.readline(_MAX_HEADER_BYTES)
    try:
        header = json.loads(line.decode("utf-8"))
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError alike
        raise ArtifactError(f"unreadable header: {exc}") from exc
    if not isinstance(header, dict):
        raise ArtifactError("unreadable header")
    return header


def _metadata_from(header: dict[str, Any]) -> ModelMetadata:
    raw = header.get("metadata")
    if not isinstance(raw, dict):
        raise ArtifactError("missing metadata")
    try:
        raw = dict(raw)
        raw["labels"] = tuple(str(label) for label in raw["labels"])
        return ModelMetadata(**raw)
    except (KeyError, TypeError) as exc:
        raise ArtifactError(f"incomplete metadata: {exc!r}") from exc


def read_metadata(path: Path) -> ModelMetadata:
    """The metadata of an artifact, reading only its header."""
    try:
        with Path(path).open("rb") as handle:
            return _metadata_from(_read_header(handle))
    except OSError as exc:
        raise ArtifactError(f"cannot open {path}: {exc}") from exc


def load_artifact(path: Path) -> tuple[TextClassifier, ModelMetadata]:
    """Load and verify an artifact; raise :class:`ArtifactError` for any problem."""
    try:
        with Path(path).open("rb") as handle:
            header = _read_header(handle)
            metadata = _metadata_from(header)
            check_compatible(metadata)
            payload = handle.read()
    except OSError as exc:
        raise ArtifactError(f"cannot read {path}: {exc}") from exc
    if len(payload) != header.get("payload_length"):
        raise ArtifactError("payload truncated")
    if hashlib.sha256(payload).hexdigest() != header.get("payload_sha256"):
        raise ArtifactError("payload checksum mismatch")
    try:
        with warnings.catch_warnings():
            # sklearn only warns on version skew: a model from another version is refused.
            warnings.simplefilter("error", category=InconsistentVersionWarning)
            # Trusted folder (see the module docstring); checksum verified above.
            parts = pickle.loads(payload)  # noqa: S301
            classifier = TextClassifier(
                parts["features"],
                parts["estimator"],
                version=metadata.version,
                unsure_below=metadata.unsure_below,
            )
    except Exception as exc:
        raise ArtifactError(f"cannot restore model: {exc!r}") from exc
    if classifier.labels != metadata.labels:
        raise ArtifactError("model labels differ from its metadata")
    return classifier, metadata
