"""话务台 / 派单台: the operator's and dispatcher's workspace.

New ticket with live classifier suggestions, possible duplicates and knowledge-base answers (the
direct-answer path closes the ticket with the article linked), the dispatch queue (one-click 派单 from a
suggestion through the routing catalogue), drafts to complete, return and extension decisions,
missed-call callbacks, 回访 tasks with their record form and a live list of new tickets.
Reads via selectors, writes via services.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tickets.core import selectors
from tickets.core.actors import Actor
from tickets.core.models import Assignment, Channel, Kind, Outcome, Ticket, Urgency
from tickets.core.services import workflow
from tickets.core.states import AssignmentState
from tickets.core.text import normalise_phone, normalise_text
from tickets.duplicates.services import duplicates
from tickets.errors import DomainError, InvalidInput, NotFound
from tickets.feedback.models import Cause, Satisfaction
from tickets.feedback.services import callbacks
from tickets.intake import selectors as intake_selectors
from tickets.intake.models import CallbackOutcome
from tickets.intake.services import idempotency, intake
from tickets.knowledge.services import articles
from tickets.knowledge.services.search import kb_search
from tickets.org.models import Category, Role, Unit, User
from tickets.pages.callcentre import call_link_from_form, seat_context
from tickets.pages.common import (
    CENTRE_PAGE_ROLES,
    OUT_OF_SCOPE_CHOICES,
    back_or,
    form_keep,
    form_keep_refused,
    form_kept,
    post_only,
    posted_id,
    role_required,
    run_service,
    with_due,
)
from tickets.routing.services import catalogue, classification

FORM_FIELDS = ("text", "citizen_phone", "citizen_name", "citizen_address")
# Dispatching on a classifier suggestion below this probability asks the dispatcher to confirm once:
# a 2 % guess is a hint to read the text again, not a routing decision.
LOW_CONFIDENCE = 0.2
CALLBACK_FIELDS = ("reached", "contacted", "solved", "satisfaction", "cause", "comment")  # 回访 record form
SAVED_KEY = "console_saved"  # the number of the ticket the last submit stored (the form's draft may go)
CONFIRM_KEY = "console_dispatch_confirm"  # {ticket id: {category, name, percent}} awaiting a confirmation


def _suggestions_of(ticket: Ticket) -> list[dict[str, Any]]:
    record = ticket.classification or {}
    return list(record.get("suggestions") or [])[:3]


def _probability_of(ticket: Ticket, category_id: int) -> float | None:
    """The classifier's probability for this category on this ticket, None when it did not suggest it."""
    for row in _suggestions_of(ticket):
        if row.get("category") == category_id:
            return float(row.get("probability") or 0.0)
    return None


def _queue_context(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    queue = list(selectors.dispatch_queue(user)[:50])  # type: ignore[arg-type]
    categories = list(Category.objects.filter(is_active=True, parent__isnull=True).order_by("name"))
    pending = request.session.get(CONFIRM_KEY, {})
    returned = _returned_by([t.pk for t in queue])
    for ticket in queue:
        suggested = _suggestions_of(ticket)
        for row in suggested:
            row["low"] = float(row.get("probability") or 0) < LOW_CONFIDENCE
        ticket.top_suggestions = suggested  # type: ignore[attr-defined]
        ticket.returned_by = returned.get(ticket.pk, [])  # type: ignore[attr-defined]
        ticket.returned_unit_ids = {a.unit_id for a in ticket.returned_by}  # type: ignore[attr-defined]
        top = next((row for row in suggested if row.get("category")), None)
        # 其他分类 starts on the classifier's best guess (else the ticket's own category), not on the
        # alphabetically first category.
        ticket.default_category = top["category"] if top else ticket.category_id  # type: ignore[attr-defined]
        ticket.extra_category = (  # type: ignore[attr-defined]
            top if top and all(c.pk != top["category"] for c in categories) else None
        )
        confirm = pending.get(str(ticket.pk))
        if confirm is not None:
            ticket.confirm = confirm  # type: ignore[attr-defined]
            ticket.chosen_unit = confirm.get("lead_unit", "")  # type: ignore[attr-defined]
    units = list(Unit.objects.filter(is_active=True).order_by("path").only("id", "name", "path"))
    return {"queue": queue, "categories": categories, "units": units}


def _returned_by(ticket_ids: list[int]) -> dict[int, list[Assignment]]:
    """The assignments each ticket's units returned with the centre's approval (申请退回 → 同意): the
    dispatcher must see who gave it back and why before dispatching it again."""
    rows = Assignment.objects.filter(ticket_id__in=ticket_ids, state=AssignmentState.RETURNED).select_related("unit")
    found: dict[int, list[Assignment]] = {}
    for row in rows.order_by("id"):
        found.setdefault(row.ticket_id, []).append(row)
    return found


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
    "callbacks": (
        "tickets/console/_callbacks.html",
        lambda r: {"callbacks": intake_selectors.callbacks_open(), "callback_outcomes": CallbackOutcome.choices},
    ),
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
    "seat": ("tickets/console/_seat.html", lambda r: seat_context(r)),  # 呼叫中心: state, softphone, caller panel
}


@require_GET
@role_required(*CENTRE_PAGE_ROLES)
def console(request: HttpRequest) -> HttpResponse:
    context = _page_context(request, form={})
    context["saved_number"] = request.session.pop(SAVED_KEY, "")
    kept = form_kept(request, where="console")  # a refused 回访 record, as the operator entered it
    if kept and kept["action"].startswith("callback:"):
        context["kept_callback"] = {**kept, "id": int(kept["action"].split(":", 1)[1])}
    if kept:
        _refused_row(context, kept)
    return render(request, "tickets/console/console.html", context)


# A refused panel form (its kept action "<kind>:<id>") → the context list holding its row, and the
# field that takes the focus when the refusal names none.
KEPT_ROWS = {
    "draft": ("drafts", "text"),  # 补全
    "return": ("returns", "reason"),  # 同意退回 / 驳回
    "extension": ("extensions", "reason"),  # 同意延期 / 驳回
    "review": ("reviews", "reason"),  # 通过 / 退回重办
    "dispatch": ("queue", "category"),  # 派单 (a low-confidence category asks to confirm)
    "callback-done": ("callbacks", "outcome"),  # 登记回拨结果
}


def _refused_row(context: dict[str, Any], kept: dict[str, Any]) -> None:
    """A refused panel form comes back as the operator typed it: its row carries the kept values
    (`kept`) and the field at fault (`bad`, marked aria-invalid, which takes the focus instead of
    the call form; the redirect has no #fragment, which would make the browser skip autofocus)."""
    kind, _sep, ident = str(kept.get("action", "")).partition(":")
    if kind not in KEPT_ROWS:
        return
    rows, default_field = KEPT_ROWS[kind]
    for row in context.get(rows, []):
        if str(row.pk) != ident:
            continue
        row.kept, row.bad = kept["values"], kept["field"] or default_field
        if kind == "dispatch":  # 其他分类 shows the category the dispatcher chose, not the top suggestion
            _keep_category(row, posted_id(kept["values"].get("category")), context["categories"])
            row.chosen_unit = kept["values"].get("lead_unit", "")


def _keep_category(ticket: Ticket, chosen: int | None, categories: list[Category]) -> None:
    if chosen is None:
        return
    ticket.default_category = chosen  # type: ignore[attr-defined]
    extra = getattr(ticket, "extra_category", None)
    if any(c.pk == chosen for c in categories) or (extra and extra.get("category") == chosen):
        return
    name = Category.objects.filter(pk=chosen).values_list("name", flat=True).first()
    if name:  # a sub-category from a suggestion: listed first, as the top suggestion's would be
        ticket.extra_category = {"category": chosen, "label": name}  # type: ignore[attr-defined]


def _page_context(request: HttpRequest, *, form: Any) -> dict[str, Any]:
    """The call form (empty, or as the operator typed it) and every panel."""
    reader: User = request.user  # type: ignore[assignment]
    context: dict[str, Any] = {
        "kinds": Kind.choices,
        "urgencies": Urgency.choices,
        "out_of_scope_outcomes": OUT_OF_SCOPE_CHOICES,
        "can_end_out_of_scope": reader.is_superuser or reader.role in workflow.DISPATCHERS,  # 不予派单
        "direct_answer_confirm_kinds": sorted(workflow.DIRECT_ANSWER_CONFIRM_KINDS),  # 知识库答复 asks to confirm
        "form": form,
        "submission": secrets.token_urlsafe(16),  # this rendering's key: the form is filed once (_filed_once)
    }
    for _template, build in PANELS.values():
        context.update(build(request))
    return context


@require_GET
@role_required(*CENTRE_PAGE_ROLES)
def console_panel(request: HttpRequest, panel: str) -> HttpResponse:
    """One panel as an htmx fragment (re-fetched when the live feed says something changed)."""
    template, build = PANELS.get(panel, (None, None))
    if template is None or build is None:
        return HttpResponse(status=404)
    return render(request, template, {**build(request), "fragment": True})


def _typed(request: HttpRequest, name: str) -> str:
    """Text still being typed, for suggestions only (nothing is stored): control characters, which
    the stored ticket refuses, are dropped rather than refused, and the length is capped."""
    return normalise_text(request.POST.get(name, ""))[: settings.TICKET_TEXT_MAX]


@post_only
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


@post_only
@role_required(*CENTRE_PAGE_ROLES)
def console_assist(request: HttpRequest) -> HttpResponse:
    """While the operator types: possible duplicates (text, caller and address compared with recent
    tickets, with the reasons and a score); nothing is saved. Refreshed when the text, 来电号码 or
    地址 changes."""
    text = _typed(request, "text")
    found: list[duplicates.Candidate] = []
    if len(text) >= 4:
        try:
            phone = normalise_phone(request.POST.get("citizen_phone", ""))
        except InvalidInput:
            phone = ""
        found = duplicates.duplicate_candidates(
            text=text, phone=phone, address=_typed(request, "citizen_address"), limit=5
        )
    return render(request, "tickets/console/_assist.html", {"text": text, "duplicates": found})


@post_only
@role_required(*CENTRE_PAGE_ROLES)
def console_kb(request: HttpRequest) -> HttpResponse:
    """While the operator types: valid knowledge-base articles for the text, best first, each with its
    score; nothing is saved.

    Its own box, refreshed by the text alone: leaving 来电号码 (which a press on 以此答复 does)
    refreshes the duplicates, and a refresh that replaced the button between press and release
    swallowed the operator's click.
    """
    text = _typed(request, "text")
    hits = kb_search(query=text[:200], limit=3) if len(text) >= 4 else []
    return render(request, "tickets/console/_kb_hits.html", {"text": text, "kb_hits": hits})


def _call_ticket_create(actor: Actor, data: Any, *, auto_route: bool = True, notify: bool = True) -> Ticket:
    """The call on the operator's form becomes a ticket (受理, or stored for a 知识库 answer or a
    不予派单 outcome: those end the ticket at once and tell the caller themselves, notify=False)."""
    if data.get("kind") not in Kind.values or data.get("urgency") not in Urgency.values:
        raise InvalidInput(_("请选择诉求类型和紧急程度"), field="kind")
    return intake.ticket_create(
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
        auto_route=auto_route,
        notify=notify,
    )


CALL_FIELDS = (
    "kind", "urgency", "text", "citizen_phone", "citizen_name", "citizen_address", "confidential", "anonymous"
)


def _filed_once(request: HttpRequest, file: Callable[[], Ticket]) -> Ticket:
    """The call form is filed once: a second submit of the same rendered form (Enter pressed twice, a
    double click) gets the first ticket back, instead of a second ticket and a second SMS to the
    caller. Each rendering of the form carries its own key (`submission`); a refused try stores none."""
    key = request.POST.get("submission", "").strip()[:128]
    if not key:
        return file()

    def run() -> tuple[int, dict[str, Any]]:
        return 201, {"ticket": file().pk}

    # The call as typed: the same key with other words is a form shown again (the browser's back
    # button) for another call, which is filed as its own ticket, never answered with the old one.
    typed = {name: request.POST.get(name, "") for name in CALL_FIELDS}
    scope = f"console:{request.user.pk}"
    try:
        _status, body, _replayed = idempotency.run_once(scope=scope, key=key, payload=typed, run=run)
    except InvalidInput as refused:
        if refused.rule != "idempotency_mismatch":
            raise
        return file()
    return Ticket.objects.get(pk=body["ticket"])


def _form_again(request: HttpRequest) -> HttpResponse:
    """The console with the operator's typed form kept and the refusal shown (400): the field at
    fault is marked and takes the focus, the hints come back for the kept text, and a refused
    不予派单 stays open."""
    context = _page_context(request, form=request.POST)
    context["refused_field"] = getattr(request, "refused_field", "")
    context["out_of_scope_open"] = request.resolver_match is not None and (
        request.resolver_match.url_name == "console-out-of-scope"
    )
    return render(request, "tickets/console/console.html", context, status=400)


@post_only
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
        actor = Actor.of(request.user)  # type: ignore[arg-type]

        def file() -> Ticket:
            # One SMS, the answer itself: no 受理 notice inviting the caller to track a matter already closed.
            ticket = _call_ticket_create(actor, data, auto_route=False, notify=False)
            call_link_from_form(request, ticket)  # answered during a call: the ticket keeps the CallSid
            # 投诉/举报: the confirmation panel's checkbox (按责转办 is the rule, a direct answer the exception).
            confirmed = data.get("confirm_kind") in ("1", "on", "true")
            return articles.ticket_answer_from_article(
                ticket=ticket, actor=actor, article_id=article_id, confirm_kind=confirmed
            )

        done.append(_filed_once(request, file))

    if run_service(request, answer, _("已按知识库直接答复并办结")):
        state = {"number": done[0].number, "state": done[0].get_state_display()}
        messages.info(request, _("工单号 %(number)s，当前状态：%(state)s") % state)
        if done[0].citizen_phone:
            messages.info(request, _("答复内容已通过短信发送给来电人"))
        request.session[SAVED_KEY] = done[0].number
        return redirect("console")
    return _form_again(request)


def _mark_out_of_scope(ticket: Ticket, actor: Actor, data: Any) -> Ticket:
    """The form's 不予派单 (its fields named as the service names them, so a refusal marks its field)."""
    outcome, reason = data.get("outcome", ""), data.get("reason", "")
    return workflow.ticket_mark_out_of_scope(ticket=ticket, actor=actor, outcome=outcome, reason=reason)


def _ended_message(request: HttpRequest, ticket: Ticket) -> None:
    state = {"number": ticket.number, "state": f"{ticket.get_state_display()}（{ticket.get_outcome_display()}）"}
    messages.info(request, _("工单号 %(number)s，当前状态：%(state)s") % state)
    if ticket.citizen_phone and ticket.outcome != Outcome.ABUSE:
        messages.info(request, _("处理结果和原因已通过短信告知来电人"))


@post_only
@role_required(*CENTRE_PAGE_ROLES)
def console_out_of_scope(request: HttpRequest) -> HttpResponse:
    """不予派单 on the call form: 转110/119/120/122, 告知途径, 不予受理, 恶意来电, recorded with the
    reason and ended at once, without dispatch (domain.md §3); the caller is told by SMS."""
    data = request.POST
    done: list[Ticket] = []

    @transaction.atomic  # a refused outcome or reason stores nothing, not even the ticket's number
    def end() -> None:
        actor = Actor.of(request.user)  # type: ignore[arg-type]

        def file() -> Ticket:
            ticket = _call_ticket_create(actor, data, auto_route=False, notify=False)
            call_link_from_form(request, ticket)
            return _mark_out_of_scope(ticket, actor, data)

        done.append(_filed_once(request, file))

    if run_service(request, end, _("已记录处理结果，不派单")):
        _ended_message(request, done[0])
        request.session[SAVED_KEY] = done[0].number
        return redirect("console")
    return _form_again(request)


@post_only
@role_required(*CENTRE_PAGE_ROLES)
def console_ticket_out_of_scope(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """不予派单 for a ticket already accepted (the dispatcher queue, the ticket page)."""
    ticket = selectors.ticket_get(request.user, ticket_id)  # type: ignore[arg-type]
    done: list[Ticket] = []

    def end() -> None:
        done.append(_mark_out_of_scope(ticket, Actor.of(request.user), request.POST))  # type: ignore[arg-type]

    if run_service(request, end, _("工单 %(number)s 已记录处理结果，不派单") % {"number": ticket.number}):
        _ended_message(request, done[0])
    else:  # the form is on the ticket page only (the queue links there with ?oos=1)
        action = f"out_of_scope:{ticket.pk}"
        form_keep_refused(request, action, ("outcome", "reason"), ticket_id=ticket.pk, elsewhere=None)
    return back_or(request, "console")


def _yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


@post_only
@role_required(Role.OPERATOR, Role.SUPERVISOR)
def console_callback_record(request: HttpRequest, callback_id: int) -> HttpResponse:
    """回访 record: reached? then the citizen's answers; a reached call records the rating."""
    callback = callbacks.callback_get(request.user, callback_id)  # type: ignore[arg-type]
    data = request.POST

    def record() -> None:
        try:
            record_answers()
        except DomainError as exc:  # named with its ticket: the panel lists several callbacks
            named = f"{_('工单')} {callback.ticket.number}：{exc.message}"
            raise type(exc)(named, rule=exc.rule, field=exc.field) from exc

    def record_answers() -> None:
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
    if not run_service(request, record, success):
        form_keep(request, where="console", action=f"callback:{callback.pk}", names=CALLBACK_FIELDS)
    return redirect("console")


@post_only
@role_required(*CENTRE_PAGE_ROLES)
def console_create(request: HttpRequest) -> HttpResponse:
    data = request.POST
    created: list[Ticket] = []

    def file() -> Ticket:
        ticket = _call_ticket_create(Actor.of(request.user), data)  # type: ignore[arg-type]
        call_link_from_form(request, ticket)  # filed during a call: the ticket keeps the CallSid
        return ticket

    @transaction.atomic
    def create() -> None:
        created.append(_filed_once(request, file))

    if run_service(request, create, _("已受理")):
        ticket = created[0]
        # 分派中: accepted, routing follows in a moment; static/js/console.js updates this line live.
        shown = _("分派中") if ticket.route_state else ticket.get_state_display()
        state = {"number": ticket.number, "state": shown}
        messages.info(request, _("工单号 %(number)s，当前状态：%(state)s") % state)
        request.session[SAVED_KEY] = ticket.number
        return redirect("console")
    return _form_again(request)


@post_only
@role_required(*CENTRE_PAGE_ROLES)
def console_dispatch(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """One-click 派单: the chosen category → routing catalogue → lead unit → workflow.ticket_dispatch.

    A category the classifier gave less than LOW_CONFIDENCE is dispatched only after a second,
    explicit confirmation (the queue row then shows the warning and a confirm button).
    """
    ticket = selectors.ticket_get(request.user, ticket_id)  # type: ignore[arg-type]
    units: list[str] = []
    pending: dict[str, dict[str, Any]] = dict(request.session.get(CONFIRM_KEY, {}))

    def dispatch() -> None:
        category = Category.objects.filter(pk=posted_id(request.POST.get("category")) or 0, is_active=True).first()
        if category is None:
            raise InvalidInput(_("请选择分类"), field="category")
        probability = _probability_of(ticket, category.pk)
        asked = pending.get(str(ticket.pk)) or {}
        confirmed = request.POST.get("confirm_low") == "1" and asked.get("category") == category.pk
        if probability is not None and probability < LOW_CONFIDENCE and not confirmed:
            pending[str(ticket.pk)] = {
                "category": category.pk,
                "name": category.name,
                "percent": round(probability * 100),
                **_chosen_unit(request.POST.get("lead_unit", "")),  # the confirmation goes there too
            }
            request.session[CONFIRM_KEY] = pending
            raise InvalidInput(
                _("“%(category)s”的置信度仅 %(percent)s%%，请核对诉求内容；确认无误后按同一分类再次派单即为确认")
                % {
                    "category": category.name,
                    "percent": round(probability * 100),
                },
                field="category",
                rule="low_confidence",
            )
        chosen = request.POST.get("lead_unit", "")
        if chosen:  # the dispatcher names the unit: the catalogue is not asked
            lead = Unit.objects.filter(pk=posted_id(chosen) or 0, is_active=True).first()
            if lead is None:
                raise InvalidInput(_("请选择承办单位"), field="lead_unit")
            workflow.ticket_dispatch(
                ticket=ticket,
                actor=Actor.of(request.user),  # type: ignore[arg-type]
                lead_unit=lead,
                category=category,
                note=_("人工指定承办单位"),
            )
            units.append(lead.name)
            return
        route = catalogue.route_lookup(category=category, jurisdiction=ticket.jurisdiction)
        if route is None:
            raise InvalidInput(
                _("派单目录中没有“%(category)s”的承办单位，请在“承办单位”中选择") % {"category": category.name},
                field="lead_unit",
            )
        gave_back = {a.unit_id: a for a in _returned_by([ticket.pk]).get(ticket.pk, [])}
        if route.lead_unit.pk in gave_back:
            raise InvalidInput(
                _("%(unit)s 已退回本工单（退回已同意），派单目录仍指向该单位，请在“承办单位”中另选单位")
                % {"unit": route.lead_unit.name},
                field="lead_unit",
                rule="returned_unit",
            )
        workflow.ticket_dispatch(
            ticket=ticket,
            actor=Actor.of(request.user),  # type: ignore[arg-type]
            lead_unit=route.lead_unit,
            assisting_units=[u for u in route.assisting_units if u.pk not in gave_back],
            category=category,
            note=route.basis,
        )
        units.append(route.lead_unit.name)
        units.extend(u.name for u in route.assisting_units if u.pk != route.lead_unit.pk and u.pk not in gave_back)

    try:
        dispatch()
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    except DomainError as exc:
        messages.error(request, str(exc))
        request.refused_field = exc.field or ""  # type: ignore[attr-defined]
        form_keep_refused(request, f"dispatch:{ticket.pk}", ("category", "lead_unit"), ticket_id=ticket.pk)
    else:
        pending.pop(str(ticket.pk), None)
        request.session[CONFIRM_KEY] = pending
        names = {"number": ticket.number, "unit": units[0]}
        if len(units) > 1:
            names["assist"] = _("、").join(units[1:])
            messages.success(request, _("工单 %(number)s 已派单：主办 %(unit)s，协办 %(assist)s") % names)
        else:
            messages.success(request, _("工单 %(number)s 已派单至 %(unit)s") % names)
    return back_or(request, "console")


def _chosen_unit(posted: str) -> dict[str, str]:
    """The 承办单位 a dispatcher chose with a low-confidence category, kept with the warning: the
    separate 确认按…派单 button posts it again and names it (it used to post the category alone, and
    the confirmed ticket went where the routing catalogue said)."""
    if not posted:
        return {}
    name = Unit.objects.filter(pk=posted_id(posted) or 0, is_active=True).values_list("name", flat=True).first()
    return {"lead_unit": posted, "unit": name or ""}


@post_only
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
        done = run_service(
            request,
            lambda: workflow.assignment_decide_return(
                assignment=assignment, actor=actor, approve=approve, reason=reason
            ),
            _("已同意退回，工单回到待派单") if approve else _("已驳回退回申请"),
        )
    else:
        done = run_service(
            request,
            lambda: workflow.assignment_decide_extension(
                assignment=assignment, actor=actor, approve=approve, reason=reason
            ),
            _("已同意延期") if approve else _("已驳回延期申请"),
        )
    if not done:
        form_keep_refused(request, f"{what}:{assignment.pk}", ("reason",), ticket_id=assignment.ticket_id)
    return back_or(request, "console")


@post_only
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
    done = run_service(
        request,
        lambda: workflow.ticket_review_reply(
            ticket=ticket,
            actor=Actor.of(request.user),  # type: ignore[arg-type]
            accept=accept,
            reason=request.POST.get("reason", ""),
        ),
        success,
    )
    if not done:
        form_keep_refused(request, f"review:{ticket.pk}", ("reason",), ticket_id=ticket.pk)
    return back_or(request, "console")


@post_only
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

    if run_service(request, complete, _("草稿 %(number)s 已补全受理") % {"number": ticket.number}):
        return redirect("console")
    form_keep(request, where="console", action=f"draft:{ticket.pk}", names=DRAFT_FIELDS)  # back as typed
    return redirect("console")  # the refused draft comes back open, its field focused (and so in view)


DRAFT_FIELDS = ("kind", "urgency", "text", "citizen_name", "citizen_address")
