"""知识库管理 (the centre): search articles, create and edit them (every edit a version), validity and
owning unit, articles about to expire, units' proposals to approve or reject, usage counts.

Also the unit's side of proposals: 建议纳入知识库 on the ticket page (`kb_proposal_form` gives the
section its context, `ticket_kb_proposal` takes the post).

Writes go through tickets.knowledge.services.articles (versions, conflicts, proposals); reads
through tickets.knowledge.selectors.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from tickets.core import privacy
from tickets.core import selectors as core_selectors
from tickets.core.actors import Actor
from tickets.core.dates import day_parse
from tickets.core.models import Assignment, Kind, Ticket
from tickets.core.states import AssignmentState
from tickets.errors import DomainError, InvalidInput
from tickets.knowledge import selectors
from tickets.knowledge.models import KbArticle, KbProposal, ProposalState
from tickets.knowledge.services import articles
from tickets.knowledge.services.search import kb_search
from tickets.org.models import Category, Unit, User
from tickets.pages.common import (
    CENTRE_PAGE_ROLES,
    UNIT_PAGE_ROLES,
    form_keep,
    post_only,
    posted_id,
    role_required,
    run_service,
)
from tickets.pages.lists import ticket_url

STATUS_LABELS = {
    "valid": gettext_lazy("有效"),
    "pending": gettext_lazy("未生效"),
    "expired": gettext_lazy("已过期"),
    "withdrawn": gettext_lazy("已下架"),
}
EXPIRING_DAYS = 30


def _can_edit(user: User) -> bool:
    return bool(user.is_superuser or user.role in articles.EDITORS)


def _can_review(user: User) -> bool:
    return bool(user.is_superuser or user.role in articles.REVIEWERS)


def _with_status(rows: Any) -> list[KbArticle]:
    out = []
    for article in rows:
        status = selectors.kb_article_status(article)
        article.status_key = status
        article.status_label = STATUS_LABELS[status]
        out.append(article)
    return out


@require_GET
@role_required(*CENTRE_PAGE_ROLES)
def kb_page(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    query = request.GET.get("q", "").strip()[:100]
    found = selectors.kb_articles_find(user, query)
    proposals = list(selectors.kb_proposals_for(user).filter(state=ProposalState.PENDING).order_by("id")[:50])
    for p in proposals:
        p.ticket_url = ticket_url(p.ticket_id, user)  # type: ignore[attr-defined]
    return render(
        request,
        "tickets/kb/kb.html",
        {
            "query": query,
            "articles": _with_status(found[:100]),
            "total": found.count(),
            "expiring": _with_status(selectors.kb_articles_expiring(within_days=EXPIRING_DAYS)[:50]),
            "expiring_days": EXPIRING_DAYS,
            "proposals": proposals,
            "can_edit": _can_edit(user),
            "can_review": _can_review(user),
        },
    )


def _date(raw: str, field: str, label: str) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return day_parse(raw, field=field)
    except InvalidInput:
        raise InvalidInput(_("%(label)s格式应为 年-月-日") % {"label": label}, field=field) from None


def _fields(request: HttpRequest) -> dict[str, Any]:
    post = request.POST
    valid_from = _date(post.get("valid_from", ""), "valid_from", _("生效日期"))
    return {
        "question": post.get("question", "").strip(),
        "answer": post.get("answer", "").strip(),
        "keywords": post.get("keywords", "").strip(),
        "category": Category.objects.filter(pk=posted_id(post.get("category")) or 0).first(),
        "owning_unit": Unit.objects.filter(pk=posted_id(post.get("owning_unit")) or 0).first(),
        "valid_from": valid_from,
        "valid_until": _date(post.get("valid_until", ""), "valid_until", _("失效日期")),
        "is_active": post.get("is_active") == "on",
    }


def _form(
    request: HttpRequest, article: KbArticle | None, values: dict[str, Any], error: str = "", status: int = 200
) -> HttpResponse:
    return render(
        request,
        "tickets/kb/article.html",
        {
            "article": article,
            "v": values,
            "error": error,
            "versions": list(article.versions.select_related("edited_by").order_by("-version")) if article else [],
            "categories": Category.objects.filter(is_active=True).order_by("path"),
            "units": Unit.objects.filter(is_active=True).order_by("path"),
            "can_edit": _can_edit(request.user),  # type: ignore[arg-type]
            "status": STATUS_LABELS[selectors.kb_article_status(article)] if article else "",
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@role_required(*CENTRE_PAGE_ROLES)
def kb_article_new(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _form(request, None, {"is_active": True})
    try:
        values = _fields(request)
        values.pop("is_active")
        note = request.POST.get("note", "").strip() or _("新建")
        article = articles.kb_article_create(actor=Actor.of(request.user), note=note, **values)  # type: ignore[arg-type]
    except DomainError as exc:
        return _form(request, None, {**request.POST.dict(), "is_active": True}, str(exc), status=400)
    messages.success(request, _("已新建知识条目（第 1 版）"))
    return redirect("kb-page-article-edit", article_id=article.pk)


@require_http_methods(["GET", "POST"])
@role_required(*CENTRE_PAGE_ROLES)
def kb_article_edit(request: HttpRequest, article_id: int) -> HttpResponse:
    article = get_object_or_404(selectors.kb_articles_for(request.user), pk=article_id)  # type: ignore[arg-type]
    current = {
        "question": article.question,
        "answer": article.answer,
        "keywords": article.keywords,
        "category": article.category_id,
        "owning_unit": article.owning_unit_id,
        "valid_from": article.valid_from.isoformat(),
        "valid_until": article.valid_until.isoformat() if article.valid_until else "",
        "is_active": article.is_active,
    }
    if request.method == "GET":
        return _form(request, article, current)
    try:
        changes = _fields(request)
        if changes["valid_from"] is None:
            changes["valid_from"] = article.valid_from
        updated = articles.kb_article_update(
            article=article,
            actor=Actor.of(request.user),  # type: ignore[arg-type]
            changes=changes,
            expected_version=posted_id(request.POST.get("version")),
            note=request.POST.get("note", "").strip(),
        )
    except DomainError as exc:
        values = {**request.POST.dict(), "is_active": request.POST.get("is_active") == "on"}
        return _form(request, article, values, str(exc), status=409 if exc.rule == "kb_version_conflict" else 400)
    messages.success(request, _("已保存为第 %(v)s 版") % {"v": updated.version})
    return redirect("kb-page-article-edit", article_id=updated.pk)


@post_only
@role_required(*CENTRE_PAGE_ROLES)
def kb_proposal_decide(request: HttpRequest, proposal_id: int) -> HttpResponse:
    proposal = get_object_or_404(KbProposal, pk=proposal_id)
    approve = request.POST.get("decision") == "approve"
    try:
        articles.kb_proposal_decide(
            proposal=proposal,
            actor=Actor.of(request.user),  # type: ignore[arg-type]
            approve=approve,
            reason=request.POST.get("reason", ""),
        )
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已采纳该建议，知识库已更新") if approve else _("已退回该建议"))
    return redirect("kb-page")


# --- 建议纳入知识库: a unit clerk proposes from the ticket page --------------------------------

PROPOSAL_FIELDS = ("question", "answer", "keywords", "valid_until", "article")
QUESTION_MAX = KEYWORDS_MAX = 200  # KbProposal's columns (PostgreSQL refuses more: a 500, not a message)
SIMILAR_SHOWN = 3  # articles offered for a change instead of a new one
SIMILAR_SCORE_SHARE = 1 / 3  # of the best hit's score, below which an article is not on the same matter


def _without_citizen(text: str, ticket: Ticket) -> str:
    """A prefill for an article every operator will read out to other citizens: the text as a unit
    reads a 保密 ticket (the page's own masking at its strictest), so no name, number or address of
    this citizen is carried over, not even a masked number."""
    hidden = privacy.CitizenFields(
        citizen_name=ticket.citizen_name,
        citizen_phone=ticket.citizen_phone,
        citizen_address=ticket.citizen_address,
        confidential=True,
        anonymous=True,
    )
    return privacy.citizen_text(text, hidden, None)


def kb_proposal_form(ticket: Ticket, own: Assignment | None) -> dict[str, Any] | None:
    """What the ticket page's 建议纳入知识库 section shows the unit clerk whose unit holds `own` on a
    咨询 ticket (None otherwise: the service takes proposals on 咨询 only): the question and answer
    prefilled from the title and the unit's reply, whether the unit has replied yet, and the unit's
    latest proposal from this ticket (so a pending one is not sent twice)."""
    if own is None or ticket.kind != Kind.CONSULT:
        return None
    mine = Assignment.objects.filter(ticket=ticket, unit_id=own.unit_id)
    reply = mine.exclude(reply_text="").order_by("-id").values_list("reply_text", flat=True).first() or ""
    title = ticket.title or ticket.text[:60]
    latest = KbProposal.objects.filter(ticket=ticket, unit_id=own.unit_id).order_by("-id").first()
    # What the centre already answers for this question: the unit may propose a change to one of them
    # rather than a second article on the same matter.
    hits = kb_search(query=f"{title} {ticket.text[:500]}", limit=SIMILAR_SHOWN)
    # Common words (怎么, 需要, 材料) match far-off articles with a smaller score: offer only those near the best.
    similar = [hit.article for hit in hits if hit.score >= hits[0].score * SIMILAR_SCORE_SHARE]
    return {
        "similar": similar,
        "question": _without_citizen(title, ticket)[:QUESTION_MAX],
        "answer": _without_citizen(reply, ticket)[: settings.REPLY_MAX],
        "replied": mine.filter(state=AssignmentState.REPLIED).exists(),
        "latest": latest,
        "answer_max": settings.REPLY_MAX,
    }


def _proposal_text(request: HttpRequest, field: str, label: str, limit: int) -> str:
    value = request.POST.get(field, "").strip()
    if "\x00" in value:
        raise InvalidInput(_("%(label)s包含不允许的空字符") % {"label": label}, field=field, rule="nul_byte")
    if len(value) > limit:
        message = _("%(label)s不能超过 %(n)s 个字（现有 %(m)s 个）") % {"label": label, "n": limit, "m": len(value)}
        raise InvalidInput(message, field=field, rule="too_long")
    return value


def _proposal_fields(request: HttpRequest) -> dict[str, Any]:
    """The form's values for `kb_proposal_create`; a value no column can hold, or an article that is not
    there to change, is refused here, naming its field (the service checks what is required and the
    date order)."""
    return {
        "question": _proposal_text(request, "question", _("问题"), QUESTION_MAX),
        "answer": _proposal_text(request, "answer", _("答复口径"), settings.REPLY_MAX),
        "keywords": _proposal_text(request, "keywords", _("关键词"), KEYWORDS_MAX),
        "valid_until": _date(request.POST.get("valid_until", "")[:20], "valid_until", _("失效日期")),
        "article": _changed_article(request.POST.get("article", "")[:20].strip()),
    }


def _changed_article(raw: str) -> KbArticle | None:
    """The article a proposal changes, or None for a new one: only an article operators may answer
    from today (a withdrawn or expired one is the centre's to revive on /kb/)."""
    if not raw:
        return None
    article = selectors.kb_articles_valid().filter(pk=int(raw)).first() if raw.isdigit() and len(raw) <= 18 else None
    if article is None:
        raise InvalidInput(_("所选的已有知识不存在或已失效，请重新选择"), field="article", rule="kb_article")
    return article


@post_only
@role_required(*UNIT_PAGE_ROLES)
def ticket_kb_proposal(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """建议纳入知识库: the unit that answered a 咨询 proposes an article from the ticket page; the centre
    decides on /kb/. Scoped like the page (another unit's ticket is a 404); a refusal returns to the
    form as typed, with the field at fault marked."""
    reader: User = request.user  # type: ignore[assignment]
    ticket = core_selectors.ticket_get(reader, ticket_id)
    page = reverse("ticket-page", args=[ticket.pk])

    def propose() -> KbProposal:
        return articles.kb_proposal_create(actor=Actor.of(reader), ticket=ticket, **_proposal_fields(request))

    if run_service(request, propose, _("已提交知识库建议，待热线中心审核")):
        return redirect(page)
    form_keep(request, where=f"ticket:{ticket.pk}", action="kb-proposal", names=PROPOSAL_FIELDS)
    # No #kb-proposal: the browser would skip the focus on the marked field (which scrolls it into view).
    return redirect(page)
