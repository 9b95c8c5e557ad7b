"""A folder of versioned models with one active pointer, hot-swapped without a restart.

Folder layout::

    <model_dir>/<version>.model     immutable artifacts (see classifier.artifact)
    <model_dir>/ACTIVE.json         {"active": "<version>", "history": ["<older>", ...]}
    <model_dir>/.lock               flock()ed while the pointer is read and rewritten

``promote`` and ``rollback`` rewrite ``ACTIVE.json`` atomically. Every process (web workers,
Celery workers) keeps its loaded model and checks the pointer file at most once per
``check_interval`` seconds (one ``stat``); when it changed, the newly active model is loaded
and swapped in. A model that fails to load is reported on the ``classifier.alerts`` logger
and the registry falls back along the history to the previous good model; with none left,
predictions come back ``unsure`` so tickets wait for a dispatcher instead of failing.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from classifier.artifact import (
    ARTIFACT_SUFFIX,
    ArtifactError,
    ModelMetadata,
    load_artifact,
    read_metadata,
    save_artifact,
)
from classifier.atomic import write_atomically
from classifier.model import TextClassifier
from classifier.prediction import (
    REASON_ERROR,
    REASON_NO_MODEL,
    Prediction,
    unsure_prediction,
)
from classifier.promotion import PromotionDecision, decide_promotion

alerts = logging.getLogger("classifier.alerts")
logger = logging.getLogger(__name__)

POINTER_NAME = "ACTIVE.json"
LOCK_NAME = ".lock"
# ``ModelRegistry.list`` shadows the builtin inside the class body; annotations use these.
Versions = list[str]
Predictions = list[Prediction]
DEFAULT_CHECK_INTERVAL = 5.0


class RegistryError(Exception):
    """A registry operation that cannot be done (unknown version, nothing to roll back to)."""


@dataclass(frozen=True)
class ArtifactInfo:
    """One file of the folder: its metadata, or why it cannot be read."""

    version: str
    path: Path
    metadata: ModelMetadata | None
    error: str | None = None


class ModelRegistry:
    """The models of one folder and the one this process currently serves."""

    def __init__(
        self,
        model_dir: str | os.PathLike[str],
        *,
        check_interval: float = DEFAULT_CHECK_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.model_dir = Path(model_dir)
        self.check_interval = check_interval
        self._clock = clock
        self._lock = threading.RLock()
        self._folder_lock_depth = 0
        self._loaded: TextClassifier | None = None
        self._loaded_version: str | None = None
        self._pointer_stamp: tuple[int, int, int] | None = None
        self._last_check: float | None = None

    # -- the folder ---------------------------------------------------------------------

    @property
    def pointer_path(self) -> Path:
        return self.model_dir / POINTER_NAME

    def path_for(self, version: str) -> Path:
        if not version or "/" in version or "\\" in version or version.startswith("."):
            raise RegistryError(f"invalid version name {version!r}")
        return self.model_dir / f"{version}{ARTIFACT_SUFFIX}"

    def list(self) -> list[ArtifactInfo]:
        """Every artifact in the folder, oldest first (unreadable ones carry ``error``)."""
        infos: list[ArtifactInfo] = []
        if not self.model_dir.is_dir():
            return infos
        for path in self.model_dir.glob(f"*{ARTIFACT_SUFFIX}"):
            if path.name.startswith("."):
                continue  # an in-progress temporary file
            version = path.name[: -len(ARTIFACT_SUFFIX)]
            try:
                infos.append(ArtifactInfo(version, path, read_metadata(path)))
            except ArtifactError as exc:
                infos.append(ArtifactInfo(version, path, None, str(exc)))
        return sorted(infos, key=lambda i: (i.metadata.trained_at if i.metadata else "", i.version))

    def add(self, classifier: TextClassifier, metadata: ModelMetadata) -> str:
        """Store a freshly trained model (not made active); return its version.

        Versions are immutable: if the name is taken (same data, same second), a suffix is
        appended rather than overwriting a model that may be serving.
        """
        version, suffix = metadata.version, 1
        while self.path_for(version).exists():
            suffix += 1
            version = f"{metadata.version}-{suffix}"
        if version != metadata.version:
            metadata = replace(metadata, version=version)
        classifier.version = version
        save_artifact(self.path_for(version), classifier, metadata)
        return version

    def register(self, artifact_path: str | os.PathLike[str]) -> str:
        """Copy an artifact into the folder under its version name; return the version.

        The artifact is not made active: call :meth:`promote`.
        """
        metadata = read_metadata(Path(artifact_path))
        target = self.path_for(metadata.version)
        source = Path(artifact_path)
        if source.resolve() != target.resolve():
            with source.open("rb") as original:
                write_atomically(target, lambda handle: shutil.copyfileobj(original, handle))
        return metadata.version

    @contextmanager
    def folder_lock(self) -> Iterator[None]:
        """Serialise pointer changes across processes (two promotions at once, or every
        worker training the default model on first start). Re-entrant within a registry."""
        with self._lock:
            if self._folder_lock_depth:
                self._folder_lock_depth += 1
                try:
                    yield
                finally:
                    self._folder_lock_depth -= 1
                return
            self.model_dir.mkdir(parents=True, exist_ok=True)
            with (self.model_dir / LOCK_NAME).open("a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                self._folder_lock_depth = 1
                try:
                    yield
                finally:
                    self._folder_lock_depth = 0
                    fcntl.flock(handle, fcntl.LOCK_UN)

    # -- the pointer --------------------------------------------------------------------

    def _read_pointer(self) -> tuple[str | None, Versions]:
        try:
            data = json.loads(self.pointer_path.read_text(encoding="utf-8"))
            active = data.get("active")
            history = [str(v) for v in data.get("history", [])]
            return (str(active) if active else None), history
        except FileNotFoundError:
            return None, []
        except (OSError, ValueError, AttributeError) as exc:
            alerts.error("classifier: unreadable pointer %s: %s", self.pointer_path, exc)
            return None, []

    def _write_pointer(self, active: str | None, history: Versions) -> None:
        body = json.dumps({"active": active, "history": history}, ensure_ascii=False, indent=1)
        write_atomically(self.pointer_path, lambda handle: _write_bytes(handle, body))
        # Changes made by this process are visible to it at once.
        self._last_check = None

    def active_version(self) -> str | None:
        """The version the pointer names (it may fail to load; see :meth:`active`)."""
        return self._read_pointer()[0]

    def promote(
        self,
        version: str,
        *,
        holdout: Iterable[tuple[str, str]] | None = None,
        force: bool = False,
    ) -> PromotionDecision:
        """Make ``version`` active if it is not worse than the active model.

        With ``holdout`` rows both models are scored on them; without, their own held-back
        metrics are compared. The decision is returned either way; only an accepted (or
        forced) decision moves the pointer.
        """
        path = self.path_for(version)
        try:
            candidate, candidate_meta = load_artifact(path)
        except ArtifactError as exc:
            raise RegistryError(f"cannot promote {version}: {exc}") from exc
        with self.folder_lock():
            active, history = self._read_pointer()
            if active == version:
                return PromotionDecision(False, f"{version} is already active")
            current = self._load_quietly(active) if active else None
            decision = decide_promotion(
                candidate,
                candidate_meta,
                current[0] if current else None,
                current[1] if current else None,
                holdout=holdout,
            )
            if decision.accepted or force:
                new_history = [*history, active] if active else history
                self._write_pointer(version, new_history)
                if not decision.accepted:
                    decision = PromotionDecision(
                        True,
                        f"forced: {decision.reason}",
                        decision.candidate_score,
                        decision.current_score,
                    )
            return decision

    def rollback(self) -> str:
        """Re-activate the previously active version; return it."""
        with self.folder_lock():
            active, history = self._read_pointer()
            if not history:
                raise RegistryError("no earlier model to roll back to")
            previous = history[-1]
            self._write_pointer(previous, history[:-1])
            logger.info("classifier: rolled back from %s to %s", active, previous)
            return previous

    # -- serving ------------------------------------------------------------------------

    def _pointer_stamp_now(self) -> tuple[int, int, int] | None:
        try:
            st = self.pointer_path.stat()
        except OSError:
            return None
        # os.replace gives a new inode, so a swap is seen even within one mtime tick.
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _load_quietly(self, version: str) -> tuple[TextClassifier, ModelMetadata] | None:
        if version == self._loaded_version and self._loaded is not None:
            return self._loaded, read_metadata(self.path_for(version))
        try:
            return load_artifact(self.path_for(version))
        except (ArtifactError, RegistryError) as exc:
            alerts.error("classifier: model %s cannot be loaded: %s", version, exc)
            return None

    def _reload(self) -> None:
        active, history = self._read_pointer()
        chain = [active, *reversed(history)] if active else []
        for position, version in enumerate(chain):
            if version is None:
                continue
            if version == self._loaded_version and self._loaded is not None:
                loaded: TextClassifier | None = self._loaded
            else:
                result = self._load_quietly(version)
                loaded = result[0] if result else None
            if loaded is not None:
                if position > 0:
                    alerts.error(
                        "classifier: active model %s unusable, serving %s instead",
                        active,
                        version,
                    )
                if version != self._loaded_version:
                    logger.info("classifier: now serving model %s", version)
                self._loaded, self._loaded_version = loaded, version
                return
        if chain:
            alerts.critical("classifier: no model in %s could be loaded", self.model_dir)
        self._loaded, self._loaded_version = None, None

    def active(self) -> TextClassifier | None:
        """The model to serve now, reloading it if the pointer changed since the last look."""
        now = self._clock()
        if self._last_check is not None and now - self._last_check < self.check_interval:
            return self._loaded
        with self._lock:
            self._last_check = now
            stamp = self._pointer_stamp_now()
            if stamp != self._pointer_stamp:
                self._pointer_stamp = stamp
                self._reload()
            return self._loaded

    @property
    def serving_version(self) -> str | None:
        """The version actually served (after any fallback), once :meth:`active` ran."""
        return self._loaded_version

    def predict(self, text: object, k: int = 3) -> Prediction:
        """Classify one message; never raises."""
        return self.predict_many([text], k=k)[0]

    def predict_many(self, texts: Iterable[object], k: int = 3) -> Predictions:
        """Classify a batch; never raises (failures come back ``unsure``)."""
        items = list(texts)
        try:
            model = self.active()
        except Exception:
            alerts.exception("classifier: registry check failed")
            model = self._loaded
        if model is None:
            return [unsure_prediction(REASON_NO_MODEL) for _ in items]
        try:
            return model.predict_many(items, k=k)
        except Exception:
            alerts.exception("classifier: prediction failed with model %s", model.version)
            return [unsure_prediction(REASON_ERROR, model.version) for _ in items]


def _write_bytes(handle: BinaryIO, text: str) -> None:
    handle.write(text.encode("utf-8"))


_registries: dict[Path, ModelRegistry] = {}
_registries_lock = threading.Lock()


def get_registry(
    model_dir: str | os.PathLike[str], *, check_interval: float = DEFAULT_CHECK_INTERVAL
) -> ModelRegistry:
    """The process-wide registry of ``model_dir`` (one loaded model per folder per process)."""
    key = Path(model_dir).resolve()
    with _registries_lock:
        registry = _registries.get(key)
        if registry is None:
            registry = _registries[key] = ModelRegistry(key, check_interval=check_interval)
        return registry
