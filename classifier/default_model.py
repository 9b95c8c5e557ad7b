"""The model the product ships with: trained on first start from the bundled demo sentences.

``data/demo_train.csv`` holds a few hundred invented requests for a fictional city (东湖区,
西山区, 南城区 …) in the 7 first-level categories. A centre replaces this model with one
trained on its own closed tickets (``manage.py train_classifier``) as soon as it has some.
No binary is committed: the model is rebuilt in a few seconds where it is needed.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from classifier.features import FeatureConfig
from classifier.registry import ModelRegistry
from classifier.training import ModelConfig, read_csv_rows, train_model

DEMO_TRAIN_PATH = Path(__file__).resolve().parent / "data" / "demo_train.csv"
#: A few hundred rows: every term counts (min_df=1).
DEMO_CONFIG = ModelConfig(features=FeatureConfig(min_df=1), svm_c=1.0)

logger = logging.getLogger(__name__)
_lock = threading.Lock()


def train_default_model(model_dir: str | os.PathLike[str]) -> str:
    """Train the demo model, store it in ``model_dir`` and return its version (not promoted)."""
    trained = train_model(
        read_csv_rows(DEMO_TRAIN_PATH),
        config=DEMO_CONFIG,
        holdout_fraction=0.15,
        version_prefix="demo-",
    )
    return ModelRegistry(model_dir).add(trained.classifier, trained.metadata)


def ensure_default_model(model_dir: str | os.PathLike[str]) -> str:
    """Make sure ``model_dir`` has an active model that loads; return the active version.

    Does nothing when the active model (or a fallback along its history) loads. Otherwise
    trains the demo model and activates it. Safe to call on every start.
    """
    registry = ModelRegistry(model_dir, check_interval=0)
    with _lock, registry.folder_lock():
        if registry.active() is not None:
            return registry.serving_version or ""
        version = train_default_model(model_dir)
        # Nothing loads (or nothing is there): the demo model is better than nothing, so it
        # goes in without a comparison; broken models stay in the history for a human.
        registry.promote(version, force=True)
        logger.info("classifier: default model %s is active", version)
        return version
