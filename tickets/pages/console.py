"""话务台 / 派单台: the operator's and dispatcher's workspace.

New ticket with live classifier suggestions, possible duplicates and knowledge-base answers (the
direct-answer path closes the ticket with the article linked), the dispatch queue (one-click 派单 from a
suggestion through the routing catalogue), drafts to complete, return and extension decisions,
missed-call callbacks, 回访 tasks with their record form and a live list of new tickets.
Reads via selectors, writes via services.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tickets.core import selectors
from tickets.core.actors import Actor
from tickets.core.models import Channel, Kind, Ticket, Urgency
from tickets.core.services import workflow
from tickets.core.states import AssignmentState
from tickets.core.text import normalise_phone, normalise_text
from tickets.duplicates.services import duplicates
from tickets.errors import InvalidInput
from tickets.feedback.models import Cause, Satisfaction
from tickets.feedback.services import callbacks
from tickets.intake import selectors as intake_selectors
from tickets.intake.services import intake
from tickets.knowledge.services import articles
from tickets.knowledge.services.search import kb_search
from tickets.org.models import Category, Role
from tickets.pages.common import CENTRE_PAGE_ROLES, posted_id, role_required, run_service, with_due
from tickets.routing.services import catalogue, classification

FORM_FIELDS = ("text", "citizen_phone", "citizen_name", "citizen_address")


def _suggestions_of(ticket: Ticket) -> list[dict[str, Any]]:
    record = ticket.classification or {}
    return list(record.get("suggestions") or [])[:3]


def _queue_context(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    queue = list(selectors.dispatch_queue(user)[:50])  # type: ignore[arg-type]
    for ticket in queue:
        ticket.top_suggestions = _suggestions_of(ticket)  # type: ignore[attr-defined]
    categories = Category.objects.filter(is_active=True, parent__isnull=True).order_by("name")
    return {"queue": queue, "categories": list(categories)}


def _can_review(request: HttpRequest) -> bool:
    """Only 派单员/审核员 and supervisors decide reviews, returns and extensions (workflow.REVIEWERS)."""
    user = request.user
    return bool(user.is_superuser or getattr(user, "role", None) in workflow.REVIEWERS)


def _requests_context(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    return {
        "can_review": _can_review(request),
        "returns": with_due(selectors.assignment_requests(user, AssignmentState.RETURN_REQUESTED), "reply_due_at"),  # type: ignore[arg-type]
        "extensions": with_due(
            selectors.assignment_requests(user, AssignmentState.EXTENSION_REQUESTED),  # type: ignore[arg-type]
            "reply_due_at",
        ),
    }


PANELS = {
    "queue": ("tickets/console/_queue.html", _queue_context),
    "drafts": (
        "tickets/console/_drafts.html",
        lambda r: {
            "drafts": list(selectors.draft_queue(r.user)[:50]),
            "kinds": Kind.choices,
            "urgencies": Urgency.choices,
        },
    ),
    "requests": ("tickets/console/_requests.html", _requests_context),
    "callbacks": ("tickets/console/_callbacks.html", lambda r: {"callbacks": intake_selectors.callbacks_open()}),
    "review": (
        "tickets/console/_review.html",
        lambda r: {
            "reviews": list(selectors.review_queue(r.user).prefetch_related("assignments")[:50]),
            "can_review": _can_review(r),
        },
    ),
    "rating_callbacks": (
        "tickets/console/_rating_callbacks.html",
        lambda r: {
            "tasks": list(callbacks.callback_queue(r.user)[:30]),
            "satisfactions": Satisfaction.choices,
            "causes": Cause.choices,
        },
    ),
    "live": ("tickets/console/_live.html", lambda r: {"recent": selectors.recent_tickets(r.user)}),
}


@require_GET
@role_required(*CENTRE_PAGE_ROLES)
def console(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"kinds": Kind.choices, "urgencies": Urgency.choices, "form": {}}
    for _template, build in PANELS.values():
        context.update(build(request))
    return render(request, "tickets/console/console.html", context)


@require_GET
@role_required(*CENTRE_PAGE_ROLES)
def console_panel(request: HttpRequest, panel: str) -> HttpResponse:
    """One panel as an htmx fragment (re-fetched when the live feed says something changed)."""
    template, build = PANELS.get(panel, (None, None))
    if template is None or build is None:
        return HttpResponse(status=404)
    return render(request, template, build(request))


def _typed(request: HttpRequest, name: str) -> str:
    """Text still being typed, for suggestions only (nothing is stored): control characters, which
    the stored ticket refuses, are dropped rather than refused, and the length is capped."""
    return normalise_text(request.POST.get(name, ""))[: settings.TICKET_TEXT_MAX]


@require_POST
@role_required(*CENTRE_PAGE_ROLES)
def console_suggest(request: HttpRequest) -> HttpResponse:
    """Classifier suggestions for text being typed; nothing is saved."""
    text = _typed(request, "text")
    rows: list[dict[str, Any]] = []
    if len(text) >= 4:
        prediction = classification.ticket_predict(Ticket(text=text))
        rows = classification.suggestions(prediction)
        for row in rows:
            row["percent"] = round(row["probability"] * 100)
    return render(request, "tickets/console/_suggestions.html", {"suggestions": rows, "text": text})


@require_POST
@role_required(*CENTRE_PAGE_ROLES)
def console_assist(request: HttpRequest) -> HttpResponse:
    """While the operator types: possible duplicates and knowledge-base answers; nothing is saved.

    Duplicates compare text, caller and address with recent tickets (with the reasons and a score);
    the knowledge-base answers are valid articles, best first, each with its score. A separate
    request from the classifier's, so that neither waits for the other.
    """
    text = _typed(request, "text")
    found: list[duplicates.Candidate] = []
    hits: list[Any] = []
    if len(text) >= 4:
        try:
            phone = normalise_phone(request.POST.get("citizen_phone", ""))
        except InvalidInput:
            phone = ""
        found = duplicates.duplicate_candidates(
            text=text, phone=phone, address=_typed(request, "citizen_address"), limit=5
        )
        hits = kb_search(query=text[:200], limit=3)
    return render(request, "tickets/console/_assist.html", {"text": text, "duplicates": found, "kb_hits": hits})


@require_POST
@role_required(*CENTRE_PAGE_ROLES)
def console_answer(request: HttpRequest) -> HttpResponse:
    """知识库直接答复: the new ticket is stored and closed at once with the article linked and counted."""
    data = request.POST
    done: list[Ticket] = []

    @transaction.atomic
    def answer() -> None:
        article_id = posted_id(data.get("article_id"))
        if article_id is None:
            raise InvalidInput(_("请选择知识库答复"), field="article_id")
        if data.get("kind") not in Kind.values or data.get("urgency") not in Urgency.values:
            raise InvalidInput(_("请选择诉求类型和紧急程度"), field="kind")
        actor = Actor.of(request.user)  # type: ignore[arg-type]
        ticket = intake.ticket_create(
            actor=actor,
            channel=Channel.PHONE,
            kind=data["kind"],
            urgency=data["urgency"],
            text=data.get("text", ""),
            citizen_phone=data.get("citizen_phone", ""),
            citizen_name=data.get("citizen_name", ""),
            citizen_address=data.get("citizen_address", ""),
            confidential=bool(data.get("confidential")),
            anonymous=bool(data.get("anonymous")),
            auto_route=False,
        )
        done.append(articles.ticket_answer_from_article(ticket=ticket, actor=actor, article_id=article_id))

    if run_service(request, answer, _("已按知识库直接答复并办结")):
        state = {"number": done[0].number, "state": done[0].get_state_display()}
        messages.info(request, _("工单号 %(number)s，当前状态：%(state)s") % state)
        return redirect("console")
    context: dict[str, Any] = {"kinds": Kind.choices, "urgencies": Urgency.choices, "form": data}
    for _template, build in PANELS.values():
        context.update(build(request))
    return render(request, "tickets/console/console.html", context, status=400)


def _yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


@require_POST
@role_required(Role.OPERATOR, Role.SUPERVISOR)
def console_callback_record(request: HttpRequest, callback_id: int) -> HttpResponse:
    """回访 record: reached? then the citizen's answers; a reached call records the rating."""
    callback = callbacks.callback_get(request.user, callback_id)  # type: ignore[arg-type]
    data = request.POST

    def record() -> None:
        reached = _yes_no(data.get("reached"))
        if reached is None:
            raise InvalidInput(_("请选择是否接通"), field="reached")
        callbacks.callback_record(
            callback=callback,
            actor=Actor.of(request.user),  # type: ignore[arg-type]
            reached=reached,
            contacted=_yes_no(data.get("contacted")),
            solved=_yes_no(data.get("solved")),
            satisfaction=data.get("satisfaction", ""),
            cause=data.get("cause", ""),
            comment=data.get("comment", ""),
        )

    number = {"number": callback.ticket.number}
    if data.get("reached") == "yes":
        success = _("工单 %(number)s 已记录回访结果，评价已入账") % number
    else:
        success = _("工单 %(number)s 已记录：未接通") % number
    run_service(request, record, success)
    return redirect("console")


@require_POST
@role_required(*CENTRE_PAGE_ROLES)
def console_create(request: HttpRequest) -> HttpResponse:
    data = request.POST
    created: list[Ticket] = []

    def create() -> None:
        created.append(
            intake.ticket_create(
                actor=Actor.of(request.user),  # type: ignore[arg-type]
                channel=Channel.PHONE,
                kind=data.get("kind", Kind.HELP),
                urgency=data.get("urgency", Urgency.NORMAL),
                text=data.get("text", ""),
                citizen_phone=data.get("citizen_phone", ""),
                citizen_name=data.get("citizen_name", ""),
                citizen_address=data.get("citizen_address", ""),
                confidential=bool(data.get("confidential")),
                anonymous=bool(data.get("anonymous")),
            )
        )

    if data.get("kind") not in Kind.values or data.get("urgency") not in Urgency.values:
        messages.error(request, _("请选择诉求类型和紧急程度"))
    elif run_service(request, create, _("已受理")):
        ticket = created[0]
        # 分派中: accepted, routing follows in a moment; static/js/console.js updates this line live.
        shown = _("分派中") if ticket.route_state else ticket.get_state_display()
        state = {"number": ticket.number, "state": shown}
        messages.info(request, _("工单号 %(number)s，当前状态：%(state)s") % state)
        return redirect("console")
    context: dict[str, Any] = {"kinds": Kind.choices, "urgencies": Urgency.choices, "form": data}
    for _template, build in PANELS.values():
        context.update(build(request))
    return render(request, "tickets/console/console.html", context, status=400)


@require_POST
@role_required(*CENTRE_PAGE_ROLES)
def console_dispatch(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """One-click 派单: the chosen category → routing catalogue → lead unit → workflow.ticket_dispatch."""
    ticket = selectors.ticket_get(request.user, ticket_id)  # type: ignore[arg-type]

    def dispatch() -> None:
        category = Category.objects.filter(pk=posted_id(request.POST.get("category")) or 0, is_active=True).first()
        if category is None:
            raise InvalidInput(_("请选择分类"), field="category")
        route = catalogue.route_lookup(category=category, jurisdiction=ticket.jurisdiction)
        if route is None:
            raise InvalidInput(
                _("派单目录中没有“%(category)s”的承办单位，请人工选择") % {"category": category.name},
                field="category",
            )
        workflow.ticket_dispatch(
            ticket=ticket,
            actor=Actor.of(request.user),  # type: ignore[arg-type]
            lead_unit=route.lead_unit,
            assisting_units=route.assisting_units,
            category=category,
            note=route.basis,
        )

    run_service(request, dispatch, _("工单 %(number)s 已派单") % {"number": ticket.number})
    return redirect("console")


@require_POST
@role_required(*CENTRE_PAGE_ROLES)
def console_decide(request: HttpRequest, assignment_id: int, what: str) -> HttpResponse:
    """审核 a 申请退回 (what=return) or 申请延期 (what=extension): approve or reject with a reason."""
    if what not in ("return", "extension"):
        raise Http404(_("未知的审核类型"))
    assignment = selectors.assignment_get(request.user, assignment_id)  # type: ignore[arg-type]
    approve = request.POST.get("decision") == "approve"
    reason = request.POST.get("reason", "")
    actor = Actor.of(request.user)  # type: ignore[arg-type]
    if what == "return":
        run_service(
            request,
            lambda: workflow.assignment_decide_return(
                assignment=assignment, actor=actor, approve=approve, reason=reason
            ),
            _("已同意退回，工单回到待派单") if approve else _("已驳回退回申请"),
        )
    else:
        run_service(
            request,
            lambda: workflow.assignment_decide_extension(
                assignment=assignment, actor=actor, approve=approve, reason=reason
            ),
            _("已同意延期") if approve else _("已驳回延期申请"),
        )
    return redirect("console")


@require_POST
@role_required(*CENTRE_PAGE_ROLES)
def console_review(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """审核办复: accept (the citizen is asked for a rating) or send back to the lead unit with a reason."""
    ticket = selectors.ticket_get(request.user, ticket_id)  # type: ignore[arg-type]
    accept = request.POST.get("decision") == "accept"
    number = {"number": ticket.number}
    if accept:
        success = _("工单 %(number)s 办复已通过，已请市民评价") % number
    else:
        success = _("工单 %(number)s 已退回承办单位重办") % number
    run_service(
        request,
        lambda: workflow.ticket_review_reply(
            ticket=ticket,
            actor=Actor.of(request.user),  # type: ignore[arg-type]
            accept=accept,
            reason=request.POST.get("reason", ""),
        ),
        success,
    )
    return redirect("console")


@require_POST
@role_required(*CENTRE_PAGE_ROLES)
def console_complete_draft(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """补全 a phone/SMS draft, then route it like any new ticket (the same path as the API)."""
    ticket = selectors.ticket_get(request.user, ticket_id)  # type: ignore[arg-type]
    data = request.POST

    def complete() -> None:
        if data.get("kind") not in Kind.values or data.get("urgency") not in Urgency.values:
            raise InvalidInput(_("请选择诉求类型和紧急程度"), field="kind")
        changes = {  # checked and normalised by the service, by the same rule as the API's
            "text": data.get("text", ""),
            "kind": data["kind"],
            "urgency": data["urgency"],
            "citizen_name": data.get("citizen_name", ""),
            "citizen_address": data.get("citizen_address", ""),
        }
        done = workflow.ticket_complete_draft(ticket=ticket, actor=Actor.of(request.user), changes=changes)  # type: ignore[arg-type]
        intake.ticket_route(ticket=done)

    run_service(request, complete, _("草稿 %(number)s 已补全受理") % {"number": ticket.number})
    return redirect("console")
