"""知识库: articles with versions, Chinese search for operators on a call, 直接答复 from an article,
and units' proposals reviewed by the centre.

Search ranks by BM25 over jieba search-mode tokens (synonyms folded to one word). On SQLite the
whole index lives in memory; on PostgreSQL a GIN-indexed tsvector over the same tokens finds the
candidates (ordered by ts_rank_cd, normalised by length) and the same BM25 orders them, with
document frequencies from ts_stat: both back ends answer the same question the same way.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from tickets.errors import InvalidInput, NotFound, NotPermitted, TransitionNotAllowed
from tickets.models import (
    Category,
    KbArticle,
    KbArticleVersion,
    KbProposal,
    Kind,
    ProposalState,
    Role,
    Ticket,
    Unit,
)
from tickets.selectors_kb import kb_articles_valid
from tickets.services import textsearch, workflow
from tickets.services.actors import Actor
from tickets.services.events import event_record
from tickets.states import AssignmentState

DEMO_FILE = Path(__file__).resolve().parents[1] / "data" / "kb_demo.json"
EDITORS = (Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)
REVIEWERS = (Role.DISPATCHER, Role.SUPERVISOR)
K1, B = 1.2, 0.75
PG_CANDIDATES = 200


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


def _pg_search(query: list[str], today: date, limit: int, stats: Bm25Index) -> list[tuple[int, float]]:
    terms = " | ".join("'" + t.replace("'", "''") + "'" for t in dict.fromkeys(query))
    with connection.cursor() as cur:
        cur.execute(
            "SELECT id, tokens, token_count FROM tickets_kbarticle, to_tsquery('simple', %s) q "  # noqa: S608
            f"WHERE search_vector @@ q AND {VALID_SQL} "
            "ORDER BY ts_rank_cd(search_vector, q, 1|32) DESC, id LIMIT %s",
            [terms, today, today, PG_CANDIDATES],
        )
        rows = cur.fetchall()
    wanted = set(query)
    scored = []
    for pk, tokens, length in rows:
        counts = Counter(t for t in tokens.split() if t in wanted)
        scored.append((pk, sum(stats.term_score(t, tf, length) for t, tf in counts.items())))
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


# --- articles and versions -----------------------------------------------------------------

ARTICLE_FIELDS = ("question", "answer", "keywords", "category", "owning_unit", "valid_from", "valid_until", "is_active")


def _check(question: str, answer: str, valid_from: date, valid_until: date | None) -> None:
    if not question.strip():
        raise InvalidInput("请填写问题", field="question", rule="required")
    if not answer.strip():
        raise InvalidInput("请填写答复口径", field="answer", rule="required")
    if valid_until is not None and valid_until < valid_from:
        raise InvalidInput("失效日期不能早于生效日期", field="valid_until", rule="date_order")


def _snapshot(article: KbArticle, actor: Actor, note: str) -> KbArticleVersion:
    return KbArticleVersion.objects.create(
        article=article,
        version=article.version,
        edited_by=actor.user,
        note=note,
        **{f: getattr(article, f) for f in ARTICLE_FIELDS},
    )


def _retokenise(article: KbArticle) -> None:
    tokens = article_tokens(article.question, article.keywords, article.answer)
    article.tokens = textsearch.tokens_text(tokens)
    article.token_count = len(tokens)


@transaction.atomic
def kb_article_create(
    *,
    actor: Actor,
    question: str,
    answer: str,
    keywords: str = "",
    category: Category | None = None,
    owning_unit: Unit | None = None,
    valid_from: date | None = None,
    valid_until: date | None = None,
    source_key: str = "",
    note: str = "新建",
) -> KbArticle:
    actor.require_role(*EDITORS)
    valid_from = valid_from or timezone.localdate()
    _check(question, answer, valid_from, valid_until)
    article = KbArticle(
        question=question.strip(),
        answer=answer.strip(),
        keywords=keywords.strip(),
        category=category,
        owning_unit=owning_unit,
        valid_from=valid_from,
        valid_until=valid_until,
        source_key=source_key,
    )
    _retokenise(article)
    article.save()
    _snapshot(article, actor, note)
    transaction.on_commit(kb_index_invalidate)
    return article


@transaction.atomic
def kb_article_update(
    *, article: KbArticle, actor: Actor, changes: dict[str, Any], expected_version: int | None = None, note: str = ""
) -> KbArticle:
    """Every edit is a new version; an edit based on an older version is refused (two editors at once)."""
    actor.require_role(*EDITORS)
    unknown = set(changes) - set(ARTICLE_FIELDS)
    if unknown:
        raise InvalidInput(f"不能修改字段 {sorted(unknown)[0]}", field=sorted(unknown)[0], rule="unknown_field")
    article = KbArticle.objects.select_for_update().get(pk=article.pk)
    if expected_version is not None and expected_version != article.version:
        raise TransitionNotAllowed("该条目已被他人修改，请刷新后重试", rule="kb_version_conflict")
    for name, value in changes.items():
        setattr(article, name, value)
    _check(article.question, article.answer, article.valid_from, article.valid_until)
    article.version += 1
    _retokenise(article)
    article.save()
    _snapshot(article, actor, note or "修改")
    transaction.on_commit(kb_index_invalidate)
    return article


def kb_article_valid_get(article_id: int, today: date | None = None) -> KbArticle:
    article = kb_articles_valid(today).filter(pk=article_id).first()
    if article is None:
        raise InvalidInput("知识库条目不存在、已下架或已过期", field="article_id", rule="kb_article_invalid")
    return article


@transaction.atomic
def ticket_answer_from_article(*, ticket: Ticket, actor: Actor, article_id: int, answer: str = "") -> Ticket:
    """直接答复 from a knowledge-base article: the ticket closes at intake and the article's use is counted."""
    article = kb_article_valid_get(article_id)
    ticket = workflow.ticket_answer_directly(
        ticket=ticket, actor=actor, answer=answer.strip() or article.answer, article_id=article.pk
    )
    KbArticle.objects.filter(pk=article.pk).update(usage_count=F("usage_count") + 1)
    return ticket


# --- proposals (units propose, the centre decides) ------------------------------------------


@transaction.atomic
def kb_proposal_create(
    *,
    actor: Actor,
    ticket: Ticket,
    question: str,
    answer: str,
    keywords: str = "",
    category: Category | None = None,
    article: KbArticle | None = None,
    valid_until: date | None = None,
) -> KbProposal:
    """After answering a 咨询 ticket, the unit proposes a new article or a change to one."""
    actor.require_role(Role.UNIT_STAFF)
    user = actor.user
    if user is None or user.unit is None:
        raise NotPermitted("只有承办单位人员可以提出知识库建议", rule="unit_only")
    if ticket.kind != Kind.CONSULT:
        raise InvalidInput("只有咨询类工单可以提出知识库建议", field="ticket", rule="kb_consult_only")
    answered = ticket.assignments.filter(unit=user.unit, state=AssignmentState.REPLIED).exists()
    if not answered:
        raise TransitionNotAllowed("本单位办复该工单后才能提出知识库建议", rule="kb_after_reply")
    _check(question, answer, timezone.localdate(), valid_until)
    proposal = KbProposal.objects.create(
        ticket=ticket,
        article=article,
        question=question.strip(),
        answer=answer.strip(),
        keywords=keywords.strip(),
        category=category or ticket.category,
        valid_until=valid_until,
        unit=user.unit,
        proposed_by=user,
    )
    event_record(
        ticket=ticket,
        actor=actor,
        action="kb_proposed",
        data={"proposal": proposal.pk, "article": article.pk if article else None},
    )
    return proposal


@transaction.atomic
def kb_proposal_decide(*, proposal: KbProposal, actor: Actor, approve: bool, reason: str = "") -> KbProposal:
    """审核: approve (the article is created or gets a new version) or reject with a reason."""
    actor.require_role(*REVIEWERS)
    if not approve and not reason.strip():
        raise InvalidInput("请填写不采纳的理由", field="reason", rule="required")
    now = timezone.now()
    target = ProposalState.APPROVED if approve else ProposalState.REJECTED
    moved = KbProposal.objects.filter(pk=proposal.pk, state=ProposalState.PENDING).update(
        state=target, decided_by=actor.user, decided_at=now, decision_reason=reason.strip()
    )
    if not moved:
        raise TransitionNotAllowed("该建议已审核，不能重复处理", rule="kb_proposal_decided")
    proposal.refresh_from_db()
    if approve:
        note = f"采纳工单{proposal.ticket.number}的建议"
        fields = {
            "question": proposal.question,
            "answer": proposal.answer,
            "keywords": proposal.keywords,
            "category": proposal.category,
            "valid_until": proposal.valid_until,
        }
        if proposal.article is not None:
            article = kb_article_update(article=proposal.article, actor=actor, changes=fields, note=note)
        else:
            article = kb_article_create(actor=actor, owning_unit=proposal.unit, note=note, **fields)
            KbProposal.objects.filter(pk=proposal.pk).update(article=article)
        version = article.versions.get(version=article.version)
        KbProposal.objects.filter(pk=proposal.pk).update(resulting_version=version)
        proposal.refresh_from_db()
    event_record(
        ticket=proposal.ticket,
        actor=actor,
        action="kb_proposal_decided",
        reason=reason,
        data={"proposal": proposal.pk, "approved": approve},
    )
    return proposal


# --- the demo knowledge base -----------------------------------------------------------------


def kb_load_demo(*, today: date | None = None) -> int:
    """Load the demo articles (tickets/data/kb_demo.json); idempotent by source key."""
    data = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
    cats = {c.code: c for c in Category.objects.all()}
    units = {u.code: u for u in Unit.objects.all()}
    existing = set(KbArticle.objects.exclude(source_key="").values_list("source_key", flat=True))
    actor = Actor.system("kb_demo")
    made = 0
    for item in data["articles"]:
        if item["key"] in existing:
            continue
        kb_article_create(
            actor=actor,
            question=item["question"],
            answer=item["answer"],
            keywords=item.get("keywords", ""),
            category=cats.get(item.get("category") or ""),
            owning_unit=units.get(item.get("unit") or ""),
            valid_from=date.fromisoformat(item["valid_from"]),
            valid_until=date.fromisoformat(item["valid_until"]) if item.get("valid_until") else None,
            source_key=item["key"],
            note="演示数据",
        )
        made += 1
    return made


def kb_article_by_key(key: str) -> KbArticle:
    article = KbArticle.objects.filter(source_key=key).first()
    if article is None:
        raise NotFound("知识库条目不存在")
    return article
