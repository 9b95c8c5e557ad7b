"""Build a labelled duplicate-pair set from the real re-posted messages in teddy2020c_unlabeled.

Read at run time from /work/shared/data (override with HOTLINE_TEDDY_DIR); nothing is copied
into the repository. The method, and its limits:

1. Rows of the three files are pooled; messages with an identical normalised text are collapsed
   into one (their pairs are trivial re-posts, counted apart as `exact`).
2. Candidate pairs come from a third method that neither detector uses: rare character 6-grams
   (document frequency 2–6) shared by two messages (≥ 2 of them), plus pairs with the same title.
3. Each candidate is labelled by a conservative rule on the normalised texts:
   difflib ratio of the whole message ≥ 0.80 → duplicate (a re-post with small edits);
   ratio < 0.40 → not a duplicate; in between → grey, left out of the evaluation.
4. Hard negatives are added: pairs whose titles differ but share a topic word (物业, 噪音, 学校 …),
   labelled negative only if their ratio < 0.40.

Limits: recall is measured against what step 2 can find, so two citizens describing the same
matter in different words (a real duplicate for a 12345 centre) are under-represented; the
grey zone hides the hardest cases; the rule labels template complaints (the same letter sent by
several neighbours) as duplicates, which is what a centre wants to merge anyway.
"""

from __future__ import annotations

import csv
import difflib
import os
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from tickets.textsearch import normalise

DATA_DIR = Path(os.environ.get("HOTLINE_TEDDY_DIR", "/work/shared/data/teddy2020c_unlabeled"))
POSITIVE, NEGATIVE = 0.80, 0.40
TOPIC_WORDS = ["物业", "噪音", "学校", "小区", "拆迁", "停车", "工资", "社保", "公积金", "垃圾", "道路", "医院"]


@dataclass(frozen=True)
class Message:
    key: str
    user: str
    time: str
    title: str
    text: str
    norm: str


@dataclass(frozen=True)
class Pair:
    a: Message
    b: Message
    ratio: float
    label: bool
    source: str  # "rare-ngram", "same-title" or "hard-negative"


def load_messages() -> tuple[list[Message], int]:
    """Unique messages (by normalised text) and the number of exact re-posts collapsed."""
    seen: dict[str, Message] = {}
    exact = 0
    for path in sorted(DATA_DIR.glob("*.csv")):
        with path.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                norm = normalise(row["text"])
                if len(norm) < 10:
                    continue
                if norm in seen:
                    exact += 1
                    continue
                key = f"{path.stem}:{row['id']}"
                seen[norm] = Message(key, row["user"], row["time"], row["title"], row["text"], norm)
    return list(seen.values()), exact


def ratio(a: Message, b: Message) -> float:
    return difflib.SequenceMatcher(None, a.norm, b.norm, autojunk=False).ratio()


def _rare_ngram_pairs(messages: list[Message], n: int = 6) -> set[tuple[int, int]]:
    postings: dict[str, set[int]] = defaultdict(set)
    for i, m in enumerate(messages):
        for j in range(0, max(1, len(m.norm) - n + 1)):
            postings[m.norm[j : j + n]].add(i)
    shared: dict[tuple[int, int], int] = defaultdict(int)
    for ids in postings.values():
        if 2 <= len(ids) <= 6:
            ordered = sorted(ids)
            for x in range(len(ordered)):
                for y in range(x + 1, len(ordered)):
                    shared[(ordered[x], ordered[y])] += 1
    return {p for p, c in shared.items() if c >= 2}


def build_pairs(seed: int = 7, hard_negatives: int = 3000) -> tuple[list[Pair], dict[str, int]]:
    messages, exact = load_messages()
    candidates = {(p, "rare-ngram") for p in _rare_ngram_pairs(messages)}
    by_title: dict[str, list[int]] = defaultdict(list)
    for i, m in enumerate(messages):
        by_title[normalise(m.title)].append(i)
    for ids in by_title.values():
        if 2 <= len(ids) <= 6:
            candidates |= {((ids[x], ids[y]), "same-title") for x in range(len(ids)) for y in range(x + 1, len(ids))}
    pairs: list[Pair] = []
    grey = 0
    done: set[tuple[int, int]] = set()
    for (i, j), source in sorted(candidates):
        if (i, j) in done:
            continue
        done.add((i, j))
        r = ratio(messages[i], messages[j])
        if r >= POSITIVE:
            pairs.append(Pair(messages[i], messages[j], r, True, source))
        elif r < NEGATIVE:
            pairs.append(Pair(messages[i], messages[j], r, False, source))
        else:
            grey += 1
    rng = random.Random(seed)
    topical = defaultdict(list)
    for i, m in enumerate(messages):
        for w in TOPIC_WORDS:
            if w in m.title:
                topical[w].append(i)
    words = [w for w in TOPIC_WORDS if len(topical[w]) >= 2]
    added = 0
    while added < hard_negatives and words:
        w = rng.choice(words)
        i, j = sorted(rng.sample(topical[w], 2))
        if (i, j) in done or normalise(messages[i].title) == normalise(messages[j].title):
            continue
        done.add((i, j))
        r = ratio(messages[i], messages[j])
        if r < NEGATIVE:
            pairs.append(Pair(messages[i], messages[j], r, False, "hard-negative"))
            added += 1
    stats = {
        "messages": len(messages),
        "exact_reposts": exact,
        "candidates": len(done) - added,
        "grey": grey,
        "positives": sum(p.label for p in pairs),
        "negatives": sum(not p.label for p in pairs),
    }
    return pairs, stats


if __name__ == "__main__":
    import sys

    pairs, stats = build_pairs()
    print(stats)
    rng = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
    for label in (True, False):
        print(f"--- sample of {'positives' if label else 'negatives'} (hand check)")
        for p in rng.sample([p for p in pairs if p.label == label and p.source != "hard-negative"], 8):
            print(f"[{p.ratio:.2f} {p.source}] {p.a.title} | {p.b.title}")
            print("   A:", p.a.text[:90].replace("\n", " "))
            print("   B:", p.b.text[:90].replace("\n", " "))
