"""Precision and recall of the duplicate detectors on real re-posted messages.

    PYTHONPATH=. .venv/bin/python bench/duplicates/detect_quality.py

Pairs come from bench/duplicates/pairs.py (see its docstring for how they are labelled and
the limits of that method). For each detector and threshold it prints TP/FP/FN, precision,
recall and F1:
- minhash+LSH: the production detector: char 3-gram shingles, 64-permutation MinHash, 32
  bands × 2 rows; a pair is flagged when the two share a band (the indexed lookup can find it)
  and the estimated Jaccard similarity reaches the threshold.
- tfidf-char: cosine of char 2–3-gram TF-IDF vectors fitted on all messages.
- tfidf-word: cosine of jieba-word TF-IDF vectors.
"""

from __future__ import annotations

import pickle
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.duplicates.pairs import DATA_DIR, build_pairs, load_messages
from tickets import textsearch

CACHE = Path(__file__).resolve().parents[2] / "var" / "bench-duplicate-pairs.pickle"


def labelled_pairs() -> tuple[list, dict]:
    stamp = [(p.name, p.stat().st_mtime) for p in sorted(DATA_DIR.glob("*.csv"))]
    if CACHE.exists():
        cached = pickle.loads(CACHE.read_bytes())  # noqa: S301 - our own cache file, written below
        if cached["stamp"] == stamp:
            return cached["pairs"], cached["stats"]
    pairs, stats = build_pairs()
    CACHE.parent.mkdir(exist_ok=True)
    CACHE.write_bytes(pickle.dumps({"stamp": stamp, "pairs": pairs, "stats": stats}))
    return pairs, stats


def table(name: str, scores: np.ndarray, labels: np.ndarray, thresholds: list[float], gate=None) -> None:
    for t in thresholds:
        pred = scores >= t
        if gate is not None:
            pred &= gate
        tp = int(np.sum(pred & labels))
        fp = int(np.sum(pred & ~labels))
        fn = int(np.sum(~pred & labels))
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        print(f"{name:<14} {t:>5.2f} {tp:>5} {fp:>5} {fn:>5} {p:>9.3f} {r:>7.3f} {f1:>6.3f}")


def main() -> None:
    t0 = time.perf_counter()
    pairs, stats = labelled_pairs()
    print(f"labelled pairs: {stats}  ({time.perf_counter() - t0:.1f}s)")
    labels = np.array([p.label for p in pairs])

    sig_cache: dict[str, tuple[np.ndarray, list[int]]] = {}

    def sig(m):  # type: ignore[no-untyped-def]
        if m.key not in sig_cache:
            s, _ = textsearch.minhash_signature(m.text)
            sig_cache[m.key] = (s, textsearch.band_keys(s))
        return sig_cache[m.key]

    t0 = time.perf_counter()
    mh = np.array([textsearch.signature_similarity(sig(p.a)[0], sig(p.b)[0]) for p in pairs])
    lsh = np.array([bool(set(sig(p.a)[1]) & set(sig(p.b)[1])) for p in pairs])
    mh_time = time.perf_counter() - t0

    messages, _ = load_messages()
    index = {m.key: i for i, m in enumerate(messages)}
    a_idx = np.array([index[p.a.key] for p in pairs])
    b_idx = np.array([index[p.b.key] for p in pairs])
    cos = {}
    cos_vectors = {}
    for name, vec in (
        ("tfidf-char", TfidfVectorizer(analyzer="char", ngram_range=(2, 3), min_df=1, sublinear_tf=True)),
        ("tfidf-word", TfidfVectorizer(analyzer=textsearch.search_tokens, sublinear_tf=True)),
    ):
        t0 = time.perf_counter()
        x = vec.fit_transform([m.norm for m in messages])
        cos_vectors[name] = x
        cos[name] = np.asarray(x[a_idx].multiply(x[b_idx]).sum(axis=1)).ravel()
        print(f"{name}: vocabulary {len(vec.vocabulary_):,}, fit+score {time.perf_counter() - t0:.1f}s")
    print(f"minhash: signatures + scores {mh_time:.1f}s; LSH band collision on {lsh[labels].mean():.1%} of positives")

    print(f"\n{'detector':<14} {'thr':>5} {'TP':>5} {'FP':>5} {'FN':>5} {'precision':>9} {'recall':>7} {'F1':>6}")
    table("minhash+LSH", mh, labels, [0.2, 0.3, 0.4, 0.5, 0.6, 0.7], gate=lsh)
    table("tfidf-char", cos["tfidf-char"], labels, [0.5, 0.6, 0.7, 0.8, 0.9])
    table("tfidf-word", cos["tfidf-word"], labels, [0.5, 0.6, 0.7, 0.8, 0.9])
    hard = np.array([p.source == "hard-negative" for p in pairs])
    top_mh, top_tf = mh[hard].max(), cos["tfidf-char"][hard].max()
    print(f"\nhard negatives: {hard.sum()}; highest minhash {top_mh:.2f}, highest tfidf-char {top_tf:.2f}")
    print(f"exact re-posts (identical normalised text, found by every detector): {stats['exact_reposts']}")
    grey_zone(messages, index, cos_vectors)


def grey_zone(messages, index, vectors) -> None:  # type: ignore[no-untyped-def]
    """The hard cases: 40 random pairs the edit-distance rule could not decide, labelled by hand."""
    rows = [
        line.strip().split(",")
        for line in (Path(__file__).parent / "grey_hand_labels.csv").read_text().splitlines()
        if line and not line.startswith(("#", "a,"))
    ]
    rows = [r for r in rows if r[0] in index and r[1] in index]
    labels = np.array([r[2] == "1" for r in rows])
    print(f"\ngrey zone, hand-labelled: {len(rows)} pairs, {labels.sum()} same matter")
    sigs = {k: textsearch.minhash_signature(messages[index[k]].text)[0] for r in rows for k in r[:2]}
    mh = np.array([textsearch.signature_similarity(sigs[a], sigs[b]) for a, b, _ in rows])
    lsh = np.array([bool(set(textsearch.band_keys(sigs[a])) & set(textsearch.band_keys(sigs[b]))) for a, b, _ in rows])
    print(f"{'detector':<14} {'thr':>5} {'TP':>5} {'FP':>5} {'FN':>5} {'precision':>9} {'recall':>7} {'F1':>6}")
    table("minhash+LSH", mh, labels, [0.2, 0.3, 0.4, 0.5], gate=lsh)
    table("minhash (all)", mh, labels, [0.2, 0.3, 0.4, 0.5])
    for name, x in vectors.items():
        a = np.array([index[r[0]] for r in rows])
        b = np.array([index[r[1]] for r in rows])
        table(name, np.asarray(x[a].multiply(x[b]).sum(axis=1)).ravel(), labels, [0.3, 0.4, 0.5, 0.6, 0.7])


if __name__ == "__main__":
    main()
