"""知识库 search: BM25 over jieba search-mode tokens with synonyms folded to one word.

On SQLite the whole index lives in memory (numpy postings, rebuilt when an article changes); on
PostgreSQL a GIN-indexed tsvector over the same tokens finds the candidates (ordered by
ts_rank_cd, normalised by length) and the same BM25 orders them, with document frequencies from
ts_stat: both back ends answer the same question the same way.
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from tickets import textsearch
from tickets.knowledge.models import KbArticle
from tickets.knowledge.selectors import kb_articles_valid

DEMO_FILE = Path(__file__).resolve().parents[2] / "data" / "kb_demo.json"
K1, B = 1.2, 0.75
PG_CANDIDATES = 60


@lru_cache(maxsize=1)
def synonyms() -> dict[str, str]:
    data = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
    return {k.lower(): v.lower() for k, v in data.get("synonyms", {}).items()}


def kb_tokens(text: str) -> list[str]:
    """Search tokens with synonyms folded (小孩 → 孩子, 上户口 → 落户)."""
    table = synonyms()
    return [table.get(t, t) for t in textsearch.search_tokens(text)]


def article_tokens(question: str, keywords: str, answer: str) -> list[str]:
    """The question and keywords count twice: they say what the article is about; the answer adds recall."""
    head = kb_tokens(f"{question} {keywords}")
    return [*head, *head, *kb_tokens(answer)]


# --- the in-memory BM25 index (SQLite) and the statistics (both) ------------------------------


@dataclass
class Bm25Index:
    """BM25 (k1 = 1.2, b = 0.75). `postings` holds, per token, the article ids and their precomputed
    term scores as arrays, so a query is a few vector additions, not a loop over documents."""

    ids: np.ndarray
    postings: dict[str, tuple[int, int]]  # token → slice of rows/weights
    rows: np.ndarray
    weights: np.ndarray
    df: dict[str, int]
    n: int
    avgdl: float

    @classmethod
    def build(cls, docs: dict[int, list[str]]) -> Bm25Index:
        ids = np.array(sorted(docs), dtype=np.int64)
        n = len(ids)
        vocab: dict[str, int] = {}
        flat = [vocab.setdefault(t, len(vocab)) for doc_id in ids.tolist() for t in docs[doc_id]]
        length = np.array([len(docs[d]) for d in ids.tolist()], dtype=float)
        doc_of = np.repeat(np.arange(n, dtype=np.int64), length.astype(np.int64))
        # (row, token) pairs with their counts, without a Python loop over 10^6 tokens.
        pairs, counts = np.unique(doc_of * max(len(vocab), 1) + np.array(flat, dtype=np.int64), return_counts=True)
        row_a, tok_a = np.divmod(pairs, max(len(vocab), 1))
        tf_a = counts.astype(float)
        avgdl = float(length.mean()) if n else 0.0
        df_a = np.bincount(tok_a, minlength=len(vocab))
        idf = np.log(1 + (n - df_a + 0.5) / (df_a + 0.5))
        norm = K1 * (1 - B + B * length[row_a] / (avgdl or 1))
        weight = idf[tok_a] * tf_a * (K1 + 1) / (tf_a + norm)
        order = np.argsort(tok_a, kind="stable")
        ends = np.cumsum(df_a)
        starts = ends - df_a
        postings = {t: (int(starts[i]), int(ends[i])) for t, i in vocab.items()}
        df = {t: int(df_a[i]) for t, i in vocab.items()}
        return cls(ids, postings, row_a[order], weight[order], df, n, avgdl)

    def idf(self, token: str) -> float:
        df = self.df.get(token, 0)
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))

    def term_score(self, token: str, tf: int, length: int) -> float:
        denom = tf + K1 * (1 - B + B * length / (self.avgdl or 1))
        return self.idf(token) * tf * (K1 + 1) / denom

    def search(self, query: list[str], limit: int) -> list[tuple[int, float]]:
        scores = np.zeros(self.n)
        for token in set(query):
            if token in self.postings:
                start, end = self.postings[token]
                scores[self.rows[start:end]] += self.weights[start:end]
        hit = np.flatnonzero(scores)
        if not len(hit):
            return []
        top = hit[np.argsort(-scores[hit], kind="stable")[:limit]]
        return [(int(self.ids[r]), float(scores[r])) for r in top]


_cache_lock = threading.Lock()
_cache: dict[str, Any] = {"generation": None, "checked": 0.0, "index": None}
GENERATION_CHECK_SECONDS = 2.0


def _generation(today: date) -> tuple[Any, ...]:
    stats = KbArticle.objects.aggregate(last=Max("updated_at"), top=Max("id"))
    return (today, KbArticle.objects.count(), stats["last"], stats["top"])


def kb_index_invalidate() -> None:
    with _cache_lock:
        _cache.update(generation=None, checked=0.0, index=None)


def _index(today: date) -> Bm25Index:
    """The index of valid articles, rebuilt when an article changes (checked every 2 s per process)."""
    now = time.monotonic()
    if _cache["index"] is not None and now - _cache["checked"] < GENERATION_CHECK_SECONDS:
        return _cache["index"]  # type: ignore[no-any-return]
    generation = _generation(today)
    with _cache_lock:
        if _cache["index"] is None or _cache["generation"] != generation:
            if connection.vendor == "postgresql":
                _cache["index"] = _pg_statistics(today)
            else:
                docs = {pk: tokens.split() for pk, tokens in kb_articles_valid(today).values_list("pk", "tokens")}
                _cache["index"] = Bm25Index.build(docs)
            _cache["generation"] = generation
        _cache["checked"] = now
        return _cache["index"]  # type: ignore[no-any-return]


# A constant fragment (no user input): valid today, as kb_articles_valid says.
VALID_SQL = "is_active AND valid_from <= %s AND (valid_until IS NULL OR valid_until >= %s)"


def _pg_statistics(today: date) -> Bm25Index:
    """N, average length and document frequencies from PostgreSQL (ts_stat), without postings."""
    day = today.isoformat()  # a date's ISO form is safe to inline in ts_stat's query text
    inner = f"SELECT search_vector FROM tickets_kbarticle WHERE {VALID_SQL}".replace("%s", f"'{day}'::date")  # noqa: S608
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT count(*), coalesce(avg(token_count), 0) FROM tickets_kbarticle WHERE {VALID_SQL}",  # noqa: S608
            [today, today],
        )
        n, avgdl = cur.fetchone()
        cur.execute("SELECT word, ndoc FROM ts_stat(%s)", [inner])
        df = dict(cur.fetchall())
    empty = np.array([], dtype=np.int64)
    return Bm25Index(empty, {}, empty, empty.astype(float), df, int(n), float(avgdl))


def _prefilter_terms(query: list[str], stats: Bm25Index) -> str:
    """The GIN prefilter asks only for the query's rarer words (at most 6, none in over 2% of the
    articles, unless nothing rarer is left): common words would match most of the base and make
    ts_rank_cd score thousands of rows, yet add little to BM25. All words still count in the score."""
    known = sorted((t for t in set(query) if stats.df.get(t, 0) > 0), key=lambda t: (stats.df[t], t))
    common = max(stats.n * 0.02, 50)
    chosen = [t for t in known if stats.df[t] <= common][:6] or known[:3]
    return " | ".join("'" + t.replace("'", "''") + "'" for t in chosen)


def _pg_search(query: list[str], today: date, limit: int, stats: Bm25Index) -> list[tuple[int, float]]:
    terms = _prefilter_terms(query, stats)
    if not terms:
        return []
    wanted = list(dict.fromkeys(query))
    with connection.cursor() as cur:
        # Term frequencies come from the tsvector's positions, so no document text leaves the database.
        cur.execute(
            "WITH c AS (SELECT id, search_vector, token_count FROM tickets_kbarticle, to_tsquery('simple', %s) q "  # noqa: S608
            f"WHERE search_vector @@ q AND {VALID_SQL} "
            "ORDER BY ts_rank_cd(search_vector, q, 1|32) DESC, id LIMIT %s) "
            "SELECT c.id, c.token_count, u.lexeme, coalesce(array_length(u.positions, 1), 1) "
            "FROM c LEFT JOIN LATERAL unnest(c.search_vector) u ON u.lexeme = ANY(%s)",
            [terms, today, today, PG_CANDIDATES, wanted],
        )
        rows = cur.fetchall()
    totals: dict[int, float] = {}
    for pk, length, lexeme, tf in rows:
        totals[pk] = totals.get(pk, 0.0) + (stats.term_score(lexeme, tf, length) if lexeme else 0.0)
    scored = list(totals.items())
    return sorted(scored, key=lambda kv: (-kv[1], kv[0]))[:limit]


@dataclass
class SearchHit:
    article: KbArticle
    score: float


def kb_search(*, query: str, limit: int = 10, today: date | None = None) -> list[SearchHit]:
    """Valid articles for what the caller asks, best first (expired and withdrawn ones never)."""
    tokens = kb_tokens(query)
    if not tokens:
        return []
    today = today or timezone.localdate()
    index = _index(today)
    if connection.vendor == "postgresql":
        ranked = _pg_search(tokens, today, limit, index)
    else:
        ranked = index.search(tokens, limit)
    articles = KbArticle.objects.select_related("category", "owning_unit").in_bulk([pk for pk, _ in ranked])
    return [SearchHit(articles[pk], round(score, 4)) for pk, score in ranked if pk in articles]
