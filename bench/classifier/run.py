"""Benchmark the classifier against a plain baseline on the Teddy Cup 2020 training split.

    python -m bench.classifier.run [--data ../shared/data/teddy2020c/train.csv] [--cpu N]

(from the repository root).
One run: 5-fold stratified cross-validation of both models (macro-F1, accuracy), then on
the full 7,414 rows: training time, predictions per second in one batch and in batches of 10
(the routing worker's size), p99 latency of a single
prediction, and resident memory of the loaded model (in a fresh process). Everything runs
pinned to one core with BLAS/OpenMP limited to one thread. Prints a markdown table.

Times are CPU seconds of this process (``time.process_time``): on a shared machine wall time
measures the neighbours too. Wall-clock figures are printed alongside for reference.
"""

from __future__ import annotations

import argparse
import os
import pickle
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from classifier.artifact import save_artifact
from classifier.evaluation import score
from classifier.features import normalize_many
from classifier.segment import segment
from classifier.training import ModelConfig, read_csv_rows, train_model

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA = REPO_ROOT / ".." / "shared" / "data" / "teddy2020c" / "train.csv"


def baseline_tokens(text: str) -> list[str]:
    return segment(normalize_many([text])[0])


class Baseline:
    """Word TF-IDF over jieba tokens + LinearSVC: the published ~0.90 recipe."""

    def __init__(self) -> None:
        self.pipeline = Pipeline(
            [
                ("tfidf", TfidfVectorizer(analyzer=baseline_tokens, sublinear_tf=True, min_df=2)),
                ("svm", LinearSVC(C=1.0)),
            ]
        )

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> Baseline:
        self.pipeline.fit(list(texts), list(labels))
        return self

    def predict_labels(self, texts: Sequence[str]) -> list[str]:
        return [str(label) for label in self.pipeline.predict(list(texts))]

    def predict_one(self, text: str) -> object:
        return self.pipeline.predict([text])[0]


class Ours:
    """The shipped model: calibrated LinearSVC over word + char + head TF-IDF."""

    def __init__(self, config: ModelConfig | None = None) -> None:
        self.config = config or ModelConfig()
        self.trained: Any = None

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> Ours:
        rows = list(zip(texts, labels, strict=True))
        self.trained = train_model(rows, config=self.config, holdout_fraction=0)
        return self

    def predict_labels(self, texts: Sequence[str]) -> list[str]:
        return self.trained.classifier.predict_labels(texts)

    def predict_one(self, text: str) -> object:
        return self.trained.classifier.predict(text)


@dataclass
class Result:
    name: str
    macro_f1: float
    accuracy: float
    train_cpu_s: float
    train_wall_s: float
    predictions_per_cpu_s: float
    small_batches_per_cpu_s: float
    p99_cpu_ms: float
    p99_wall_ms: float
    rss_mb: float
    file_mb: float


class Stopwatch:
    """CPU seconds of this process and wall seconds, from creation."""

    def __init__(self) -> None:
        self.cpu, self.wall = time.process_time(), time.perf_counter()

    def read(self) -> tuple[float, float]:
        return time.process_time() - self.cpu, time.perf_counter() - self.wall


def cross_validate(make: Callable[[], Any], texts: list[str], labels: list[str]) -> tuple:
    predicted = [""] * len(texts)
    splitter = StratifiedKFold(n_splits=5, shuffle=True, random_state=42)
    for fold, (train_idx, test_idx) in enumerate(splitter.split(texts, labels), start=1):
        model = make().fit([texts[i] for i in train_idx], [labels[i] for i in train_idx])
        for index, label in zip(test_idx, model.predict_labels([texts[i] for i in test_idx]), strict=True):
            predicted[index] = label
        print(f"  fold {fold}/5", file=sys.stderr, flush=True)
    report = score(labels, predicted)
    return report.macro_f1, report.accuracy


def measure(name: str, make: Callable[[], Any], texts: list[str], labels: list[str]) -> Result:
    print(f"{name}: 5-fold CV …", file=sys.stderr, flush=True)
    macro_f1, accuracy = cross_validate(make, texts, labels)

    print(f"{name}: full fit and speed …", file=sys.stderr, flush=True)
    watch = Stopwatch()
    model = make().fit(texts, labels)
    train_cpu, train_wall = watch.read()

    watch = Stopwatch()
    if isinstance(model, Ours):
        model.trained.classifier.predict_many(texts)  # full Prediction objects, with terms
    else:
        model.predict_labels(texts)
    per_second = len(texts) / watch.read()[0]

    watch = Stopwatch()  # the routing worker's batches: a few tickets per wake-up
    for start in range(0, len(texts), 10):
        if isinstance(model, Ours):
            model.trained.classifier.predict_many(texts[start : start + 10])
        else:
            model.predict_labels(texts[start : start + 10])
    per_second_small = len(texts) / watch.read()[0]

    sample = random.Random(1).sample(texts, 1000)
    for text in sample[:20]:
        model.predict_one(text)
    cpu_latencies, wall_latencies = [], []
    for text in sample:
        watch = Stopwatch()
        model.predict_one(text)
        cpu, wall = watch.read()
        cpu_latencies.append(cpu)
        wall_latencies.append(wall)
    p99_cpu = float(np.percentile(cpu_latencies, 99) * 1000)
    p99_wall = float(np.percentile(wall_latencies, 99) * 1000)

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.bin"
        if isinstance(model, Ours):
            save_artifact(path, model.trained.classifier, model.trained.metadata)
        else:
            path.write_bytes(pickle.dumps(model.pipeline))
        file_mb = path.stat().st_size / 2**20
        rss_mb = loaded_rss_mb(path, "ours" if isinstance(model, Ours) else "baseline")
    return Result(
        name,
        macro_f1,
        accuracy,
        train_cpu,
        train_wall,
        per_second,
        per_second_small,
        p99_cpu,
        p99_wall,
        rss_mb,
        file_mb,
    )


def loaded_rss_mb(path: Path, kind: str) -> float:
    """Resident memory added by loading the model and answering once, in a fresh process."""
    output = subprocess.run(
        [sys.executable, "-m", "bench.classifier.run", "--rss-child", kind, str(path)],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    ).stdout
    return float(output.strip().splitlines()[-1])


def _rss_kb() -> int:
    with Path("/proc/self/status").open() as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def rss_child(kind: str, path: str) -> None:
    from classifier.artifact import load_artifact

    before = _rss_kb()  # libraries imported, nothing loaded
    if kind == "ours":
        model, _ = load_artifact(Path(path))
        model.predict("东湖区人民路噪音扰民")
    else:
        with Path(path).open("rb") as handle:
            pipeline = pickle.load(handle)  # noqa: S301 - our own temp file
        pipeline.predict(["东湖区人民路噪音扰民"])
    print((_rss_kb() - before) / 1024)


def main() -> None:
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = "1"  # for the child process; this one uses threadpool_limits
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--cpu", type=int, default=None, help="core to pin to (default: first)")
    parser.add_argument("--rss-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    cpu = args.cpu if args.cpu is not None else min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    if args.rss_child:
        rss_child(*args.rss_child)
        return
    if not args.data.exists():
        sys.exit(f"no data at {args.data}")

    rows = read_csv_rows(args.data)
    texts = [text for text, _ in rows]
    labels = [label for _, label in rows]
    with threadpool_limits(limits=1):
        results = [
            measure("baseline: jieba word TF-IDF + LinearSVC", Baseline, texts, labels),
            measure("ours: word+char+head TF-IDF, calibrated LinearSVC", Ours, texts, labels),
        ]
    print(f"\n{len(rows)} rows, 5-fold stratified CV (seed 42), pinned to CPU {cpu}\n")
    print(
        "| model | macro-F1 | accuracy | train CPU s (wall) | predictions/CPU s (batch) "
        "| predictions/CPU s (batches of 10) | p99 single, CPU ms (wall) | loaded RSS MB | file MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r.name} | {r.macro_f1:.4f} | {r.accuracy:.4f} "
            f"| {r.train_cpu_s:.1f} ({r.train_wall_s:.1f}) | {r.predictions_per_cpu_s:,.0f} "
            f"| {r.small_batches_per_cpu_s:,.0f} "
            f"| {r.p99_cpu_ms:.1f} ({r.p99_wall_ms:.1f}) | {r.rss_mb:.0f} | {r.file_mb:.1f} |"
        )


if __name__ == "__main__":
    main()
