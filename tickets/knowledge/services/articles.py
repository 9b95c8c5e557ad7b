"""知识库: articles with versions, 直接答复 from an article, and units' proposals reviewed by the centre.

Search lives in `tickets.knowledge.services.search` (re-exported here: kb_search, kb_tokens, …).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tickets import textsearch
from tickets.core.actors import Actor
from tickets.core.models import Kind, Ticket
from tickets.core.services import workflow
from tickets.core.services.events import event_record
from tickets.core.states import AssignmentState
from tickets.errors import InvalidInput, NotPermitted, TransitionNotAllowed
from tickets.knowledge.models import KbArticle, KbArticleVersion, KbProposal, ProposalState
from tickets.knowledge.selectors import kb_articles_valid
from tickets.knowledge.services.search import (  # noqa: F401 - the knowledge base's one import # noqa: F401 - the knowledge base's one import
    DEMO_FILE,
    VALID_SQL,
    Bm25Index,
    SearchHit,
    article_tokens,
    kb_index_invalidate,
    kb_search,
    kb_tokens,
)
from tickets.org.models import Category, Role, Unit

EDITORS = (Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)
REVIEWERS = (Role.DISPATCHER, Role.SUPERVISOR)


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
def ticket_answer_from_article(
    *, ticket: Ticket, actor: Actor, article_id: int, answer: str = "", confirm_kind: bool = False
) -> Ticket:
    """直接答复 from a knowledge-base article: the ticket closes at intake and the article's use is counted.

    A 投诉 or 举报 needs `confirm_kind` (see `workflow.ticket_answer_directly`)."""
    article = kb_article_valid_get(article_id)
    ticket = workflow.ticket_answer_directly(
        ticket=ticket,
        actor=actor,
        answer=answer.strip() or article.answer,
        article_id=article.pk,
        confirm_kind=confirm_kind,
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
    Ticket.objects.select_for_update().filter(pk=ticket.pk).first()  # two clicks at once: one waits
    if KbProposal.objects.filter(ticket=ticket, unit=user.unit, state=ProposalState.PENDING).exists():
        raise TransitionNotAllowed("本单位对该工单的知识库建议正在审核，无需重复提交", rule="kb_proposal_pending")
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
        fields: dict[str, Any] = {
            "question": proposal.question,
            "answer": proposal.answer,
            "keywords": proposal.keywords,
            "category": proposal.category,
            "valid_until": proposal.valid_until,
        }
        if proposal.article is not None:
            article = kb_article_update(article=proposal.article, actor=actor, changes=fields, note=note)
        else:
            article = kb_article_create(
                actor=actor,
                owning_unit=proposal.unit,
                note=note,
                question=proposal.question,
                answer=proposal.answer,
                keywords=proposal.keywords,
                category=proposal.category,
                valid_until=proposal.valid_until,
            )
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
