"""Knowledge-base search over 10,000 articles: latency (median, p99) and whether the right demo
article still wins among 10,000 real-text distractors.

    PYTHONPATH=. .venv/bin/python bench/kb/search_bench.py            # PostgreSQL (hotline_bench_kb_search)
    PYTHONPATH=. .venv/bin/python bench/kb/search_bench.py --sqlite   # the embedded default

Distractor articles are built at run time from the real messages in /work/shared/data/
teddy2020c_unlabeled (title as the question; the unit's reply, or the message, as the answer);
nothing is copied into the repository. Queries: the 38 callers' questions of tests/kb/paraphrases.py
and 300 real message titles. On PostgreSQL it also reports the quality of ts_rank_cd alone (the
GIN prefilter's order), to show what the BM25 re-ranking adds.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
parser = argparse.ArgumentParser()
parser.add_argument("--sqlite", action="store_true")
parser.add_argument("--articles", type=int, default=10_000)
args = parser.parse_args()
if args.sqlite:
    (ROOT / "var").mkdir(exist_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{ROOT / 'var' / 'bench-kb-search.sqlite3'}"
else:
    os.environ["DATABASE_URL"] = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hotline_bench_kb_search"
    )
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from tests.kb.paraphrases import PARAPHRASES  # noqa: E402
from tickets import textsearch  # noqa: E402
from tickets.knowledge.models import KbArticle  # noqa: E402
from tickets.knowledge.services import articles  # noqa: E402

DATA = Path(os.environ.get("HOTLINE_TEDDY_DIR", "/work/shared/data/teddy2020c_unlabeled"))
TODAY = date(2026, 3, 2)


def ensure_database() -> None:
    if connection.vendor == "postgresql":
        import psycopg

        url = os.environ["DATABASE_URL"]
        base, _, name = url.rpartition("/")
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    call_command("migrate", verbosity=0)


def real_rows() -> list[tuple[str, str]]:
    rows = []
    for path in sorted(DATA.glob("*.csv")):
        with path.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                answer = row.get("reply") or row["text"]
                rows.append((row["title"][:200], answer[:1500]))
    return rows


def load(n: int) -> None:
    if KbArticle.objects.count() == n:
        return
    KbArticle.objects.all().delete()
    articles.kb_load_demo()
    rng = random.Random(5)
    rows = real_rows()
    batch = []
    t0 = time.perf_counter()
    for i in range(n - KbArticle.objects.count()):
        question, answer = rows[i % len(rows)]
        tokens = articles.article_tokens(question, "", answer)
        batch.append(
            KbArticle(
                question=question,
                answer=answer,
                valid_from=date(2025, 1, 1),
                valid_until=None if rng.random() > 0.1 else date(2025, 6, 30),
                tokens=textsearch.tokens_text(tokens),
                token_count=len(tokens),
                source_key=f"bench-{i}",
            )
        )
    KbArticle.objects.bulk_create(batch, batch_size=1000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE tickets_kbarticle")
    print(f"loaded {n:,} articles in {time.perf_counter() - t0:.0f}s")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def quality(search) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    top1 = top3 = 0
    for question, key in PARAPHRASES:
        keys = search(question)
        top1 += bool(keys) and keys[0] == key
        top3 += key in keys[:3]
    return top1 / len(PARAPHRASES), top3 / len(PARAPHRASES)


def ts_rank_cd_only(question: str) -> list[str]:
    terms = " | ".join("'" + t + "'" for t in dict.fromkeys(articles.kb_tokens(question)))
    with connection.cursor() as cur:
        cur.execute(
            "SELECT source_key FROM tickets_kbarticle, to_tsquery('simple', %s) q "  # noqa: S608
            f"WHERE search_vector @@ q AND {articles.VALID_SQL} "
            "ORDER BY ts_rank_cd(search_vector, q, 1|32) DESC, id LIMIT 3",
            [terms, TODAY, TODAY],
        )
        return [r[0] for r in cur.fetchall()]


def main() -> None:
    ensure_database()
    load(args.articles)
    articles.kb_index_invalidate()
    t0 = time.perf_counter()
    articles.kb_search(query="公积金", today=TODAY)
    built = "statistics" if connection.vendor == "postgresql" else "index"
    first_ms = (time.perf_counter() - t0) * 1000
    print(f"{connection.vendor}: first search (loads jieba, builds the {built}): {first_ms:.0f} ms")
    titles = [q for q, _ in real_rows()]
    rng = random.Random(3)
    queries = [q for q, _ in PARAPHRASES] + rng.sample(titles, 300)
    for q in queries[:20]:
        articles.kb_search(query=q, today=TODAY)
    times = []
    for q in queries:
        t0 = time.perf_counter()
        articles.kb_search(query=q, limit=5, today=TODAY)
        times.append((time.perf_counter() - t0) * 1000)
    top1, top3 = quality(lambda q: [h.article.source_key for h in articles.kb_search(query=q, limit=3, today=TODAY)])
    print(f"\nKB search over {KbArticle.objects.count():,} articles ({len(queries)} queries, {connection.vendor})")
    print(f"latency: median {statistics.median(times):.2f} ms, p99 {pct(times, 0.99):.2f} ms, max {max(times):.2f} ms")
    print(f"paraphrases with 10k distractors: top-1 {top1:.0%}, top-3 {top3:.0%}  (BM25)")
    if connection.vendor == "postgresql":
        base1, base3 = quality(ts_rank_cd_only)
        print(f"                                  top-1 {base1:.0%}, top-3 {base3:.0%}  (ts_rank_cd alone)")


if __name__ == "__main__":
    main()
