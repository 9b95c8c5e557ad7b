"""The one ticket page (工单详情) for every role, its printable sheet, 并单 (compare, merge, unmerge)
and internal notes.

Scoped like the API: every read starts at `selectors.ticket_get`, so a unit opening another unit's
ticket gets the styled 404. What a reader sees of the citizen goes through `tickets.core.privacy`;
opening the page is recorded by `access.ticket_view_record`. Actions post to the workspaces'
existing endpoints (unit, board, console) with `back` set, and land here again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tickets.callcentre import selectors as cc_selectors
from tickets.core import privacy, selectors
from tickets.core.actors import Actor
from tickets.core.models import Assignment, Channel, Ticket
from tickets.core.services import access, workflow
from tickets.core.states import OPEN_TICKET_STATES, TICKET_TRANSITIONS, AssignmentState, TicketState
from tickets.duplicates.models import DuplicateLink
from tickets.duplicates.services import duplicates
from tickets.feedback.models import Rating, RatingCallback
from tickets.intake import selectors as intake_selectors
from tickets.intake.services.intake import TRUNCATED_MARK
from tickets.notes import selectors as note_selectors
from tickets.notes import services as notes
from tickets.org.models import Category, Role, Unit, User
from tickets.pages.common import (
    CENTRE_PAGE_ROLES,
    OUT_OF_SCOPE_CHOICES,
    UNIT_PAGE_ROLES,
    form_keep,
    form_kept,
    post_only,
    posted_id,
    role_required,
    run_service,
)
from tickets.pages.console import CONFIRM_KEY
from tickets.pages.history import history_rows, person_label, plain_percent
from tickets.pages.knowledge import kb_proposal_form
from tickets.supervision.selectors import ticket_supervisions

STAFF_PAGE_ROLES = (*CENTRE_PAGE_ROLES, *UNIT_PAGE_ROLES)


def _span(delta: timedelta) -> str:
    minutes = int(abs(delta.total_seconds()) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)s天%(h)s小时") % {"d": days, "h": hours}
    if hours:
        return _("%(h)s小时%(m)s分钟") % {"h": hours, "m": mins}
    return _("%(m)s分钟") % {"m": mins}


@dataclass(frozen=True)
class Clock:
    """One deadline as a reader sees it: when, and how it stands now."""

    label: str
    due: datetime | None
    text: str
    css: str


def clock_of(label: str, due: datetime | None, done: datetime | None, on_time: bool | None, now: datetime) -> Clock:
    if due is None:
        return Clock(label, None, _("未设时限"), "due-none")
    if done is not None:
        late = on_time is False or (on_time is None and done > due)
        return Clock(label, due, _("已超时完成") if late else _("按时完成"), "due-red" if late else "due-ok")
    left = due - now
    if left < timedelta(0):
        return Clock(label, due, _("已超期 %(t)s") % {"t": _span(left)}, "due-red")
    css = "due-amber" if left < timedelta(hours=24) else "due-ok"
    return Clock(label, due, _("剩余 %(t)s") % {"t": _span(left)}, css)


def _assignment_rows(ticket: Ticket, reader: User, now: datetime) -> list[Assignment]:
    rows = list(selectors.ticket_assignments(ticket))
    for a in rows:
        a.sign_clock = clock_of(_("签收时限"), a.sign_due_at, a.signed_at, a.sign_on_time, now)  # type: ignore[attr-defined]
        reply_done = a.replied_at or a.ended_at
        a.reply_clock = clock_of(_("答复时限"), a.reply_due_at, reply_done, a.reply_on_time, now)  # type: ignore[attr-defined]
        a.reply_shown = privacy.citizen_text(a.reply_text, ticket, reader)  # type: ignore[attr-defined]
        a.return_shown = privacy.citizen_text(a.return_reason, ticket, reader)  # type: ignore[attr-defined]
        a.extension_shown = privacy.citizen_text(a.extension_reason, ticket, reader)  # type: ignore[attr-defined]
        a.paused = a.clock_paused_at is not None  # type: ignore[attr-defined]
    return rows


def _own_assignment(reader: User, ticket: Ticket) -> Assignment | None:
    """The reader's unit's newest assignment on the ticket (unit staff only)."""
    if not reader.is_unit_staff or reader.unit is None:
        return None
    return selectors.assignment_queryset_for(reader).filter(ticket=ticket, unit=reader.unit).order_by("-id").first()


def _role(reader: User) -> str:
    return "admin" if reader.is_superuser else reader.role


def _can(reader: User, *roles: str) -> bool:
    return bool(reader.is_superuser or reader.role in roles)


def _merge_sources() -> frozenset[str]:
    return TICKET_TRANSITIONS["merge"].sources


def _classification_text(ticket: Ticket) -> str:
    record = ticket.classification or {}
    rows = record.get("suggestions") or []
    if not rows:
        return ""
    parts = [f"{r.get('label', '—')}（{plain_percent(r.get('probability'))}）" for r in rows[:3]]
    return _("智能分类建议：%(list)s") % {"list": "、".join(parts)}


def _dispatch_choices(ticket: Ticket) -> dict[str, Any]:
    """派单's category list: the classifier's suggestions first, with their confidence, then every
    category. A ticket the classifier was unsure of has no category yet: nothing is preselected
    then (the first category in the list was, whatever the text said)."""
    if ticket.state not in (TicketState.REGISTERED, TicketState.DISPATCHING):
        return {"categories": [], "suggested_categories": []}
    categories = list(Category.objects.filter(is_active=True, parent__isnull=True).order_by("name"))
    by_pk = {category.pk: category for category in categories}
    suggested = [
        (by_pk[row["category"]], plain_percent(row.get("probability")))
        for row in (ticket.classification or {}).get("suggestions") or []
        if row.get("category") in by_pk
    ]
    # 承办单位: the catalogue's unit unless the dispatcher names one; never a unit whose return of
    # this ticket the centre approved (console_dispatch refuses the catalogue's choice of it too).
    gave_back = set(ticket.assignments.filter(state=AssignmentState.RETURNED).values_list("unit_id", flat=True))
    units = [u for u in Unit.objects.filter(is_active=True).order_by("path").only("id", "name", "path")
             if u.pk not in gave_back]
    return {"categories": categories, "suggested_categories": suggested[:3], "dispatch_units": units}


def _duplicates_context(ticket: Ticket, reader: User) -> dict[str, Any]:
    """并单与重复: the master or children, confirmed links, and (centre) likely duplicates to compare."""
    children = list(ticket.merged_children.order_by("id"))
    links = list(
        DuplicateLink.objects.filter(revoked_at__isnull=True)
        .filter(ticket=ticket)
        .select_related("earlier")
        .order_by("id")
    ) + list(
        DuplicateLink.objects.filter(revoked_at__isnull=True, earlier=ticket).select_related("ticket").order_by("id")
    )
    linked = []
    for link in links:
        other = link.earlier if link.ticket_id == ticket.pk else link.ticket
        if other.pk != ticket.merged_into_id and other.pk not in {c.pk for c in children}:
            linked.append((other, link.get_kind_display()))
    candidates: list[duplicates.Candidate] = []
    if reader.is_centre and ticket.state in OPEN_TICKET_STATES:
        seen = {c.pk for c in children} | {o.pk for o, _kind in linked} | {ticket.merged_into_id}
        candidates = [c for c in duplicates.ticket_duplicates(ticket=ticket, limit=5) if c.ticket.pk not in seen]
    return {"children": children, "linked": linked, "candidates": candidates}


def _feedback_context(ticket: Ticket, reader: User) -> dict[str, Any]:
    ratings = list(Rating.objects.filter(ticket=ticket).select_related("unit", "reviewed_by").order_by("round"))
    for r in ratings:  # the citizen's own words may quote their number
        r.comment_shown = privacy.citizen_text(r.comment, ticket, reader)  # type: ignore[attr-defined]
    callbacks = list(RatingCallback.objects.filter(ticket=ticket).select_related("operator").order_by("round"))
    for c in callbacks:
        c.operator_label = person_label(c.operator)  # type: ignore[attr-defined]
    return {"ratings": ratings, "callbacks": callbacks}


def _supervisions(ticket: Ticket, reader: User) -> list[Any]:
    rows = list(ticket_supervisions(ticket))
    for s in rows:
        s.issuer = person_label(s.issued_by) if s.issued_by else (s.issued_by_label and _("系统定时督办"))  # type: ignore[attr-defined]
        s.text_shown = privacy.citizen_text(s.text, ticket, reader)  # type: ignore[attr-defined]
        s.note_shown = privacy.citizen_text(s.note, ticket, reader)  # type: ignore[attr-defined]
    return rows


def ticket_context(request: HttpRequest, ticket: Ticket) -> dict[str, Any]:
    """Everything the page and the printed sheet show, for this reader."""
    reader: User = request.user  # type: ignore[assignment]
    now = timezone.now()
    own = _own_assignment(reader, ticket)
    unit: Unit | None = reader.unit
    open_ticket = ticket.state in OPEN_TICKET_STATES
    children_units = (
        list(Unit.objects.filter(path__startswith=unit.path, is_active=True).exclude(pk=unit.pk).order_by("path"))
        if unit is not None and own is not None
        else []
    )
    notes_rows = list(note_selectors.ticket_notes(ticket))
    for n in notes_rows:  # staff write them, but may paste what the citizen said
        n.author_label = person_label(n.author)  # type: ignore[attr-defined]
        n.text_shown = privacy.citizen_text(n.text, ticket, reader)  # type: ignore[attr-defined]
    return {
        "ticket": ticket,
        "citizen": privacy.citizen_view(ticket, reader),
        "text": privacy.citizen_text(ticket.text, ticket, reader),
        "outcome_reason": privacy.citizen_text(ticket.outcome_reason, ticket, reader),
        "classification_text": _classification_text(ticket),
        "ticket_clock": clock_of(_("总办结时限"), ticket.due_at, ticket.closed_at, None, now),
        "assignments": _assignment_rows(ticket, reader, now),
        "own": own,
        "own_clock": clock_of(_("答复时限"), own.reply_due_at, own.replied_at or own.ended_at, own.reply_on_time, now)
        if own
        else None,
        "children_units": children_units,
        "supervisions": _supervisions(ticket, reader),
        "history": history_rows(selectors.ticket_history(ticket), ticket=ticket, reader=reader),
        "attachments": intake_selectors.ticket_attachment_items(ticket, reader)
        + cc_selectors.ticket_recording_items(ticket, reader),  # the call centre's recordings join the ticket
        "inbound_texts": intake_selectors.ticket_inbound_texts(ticket, reader)
        if ticket.channel in (Channel.SMS, Channel.PHONE)
        else [],
        "text_truncated": ticket.text.endswith(TRUNCATED_MARK),
        "notes": notes_rows,
        "reply_templates": list(note_selectors.reply_templates_for(unit)) if own is not None else [],
        "kb_proposal": kb_proposal_form(ticket, own),  # 建议纳入知识库 (unit clerks, 咨询 tickets)
        "created_by": person_label(ticket.created_by) if ticket.created_by_id else "",
        "back": request.path if request.resolver_match and request.resolver_match.url_name == "ticket-page" else "",
        "role": _role(reader),
        "can_dispatch": _can(reader, *workflow.DISPATCHERS, Role.ADMIN)
        and ticket.state in (TicketState.REGISTERED, TicketState.DISPATCHING),
        "can_review": _can(reader, *workflow.REVIEWERS, Role.ADMIN) and ticket.state == TicketState.REPLIED,
        "can_supervise": _can(reader, Role.SUPERVISOR) and open_ticket and ticket.state != TicketState.DRAFT,
        "can_merge": _can(reader, *workflow.DISPATCHERS, Role.ADMIN) and ticket.state in _merge_sources(),
        "can_unmerge": _can(reader, *workflow.DISPATCHERS, Role.ADMIN) and ticket.state == TicketState.MERGED,
        "can_decide": _can(reader, *workflow.REVIEWERS, Role.ADMIN),
        **_dispatch_choices(ticket),
        "out_of_scope_outcomes": OUT_OF_SCOPE_CHOICES,
        "attachment_limits": {
            "count": settings.CITIZEN_PHOTO_MAX,
            "mb": settings.CITIZEN_PHOTO_MAX_BYTES // (1024 * 1024),
        },
        "is_unit_reader": reader.is_unit_staff,
        **_duplicates_context(ticket, reader),
        **_feedback_context(ticket, reader),
    }


@require_GET
@role_required(*STAFF_PAGE_ROLES)
def ticket_page(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """工单详情: the whole story of one ticket and what this reader may do with it."""
    reader: User = request.user  # type: ignore[assignment]
    ticket = selectors.ticket_get(reader, ticket_id)
    access.ticket_view_record(ticket=ticket, user=reader, via="page.ticket")
    context = ticket_context(request, ticket)
    context["kept"] = form_kept(request, where=f"ticket:{ticket.pk}") or {}  # a refused form, as typed
    centre_refusal(context, context["kept"])
    # A low-confidence 派单 refused with a warning: 派单 again with that category is the confirmation
    # (as on the console's queue row).
    context["dispatch_confirm"] = request.session.get(CONFIRM_KEY, {}).get(str(ticket.pk))
    return render(request, "tickets/ticket/page.html", context)


# The centre's forms on this page post to the console's views, which keep a refused one under the
# console's action names ("<kind>:<id>", console.KEPT_ROWS); the field that takes the focus when the
# refusal names none.
# 不予派单 posts to the console too; 督办, 挂牌督办 and 摘牌 post to the board's view (kept as "supervise").
CENTRE_KEPT = {
    "return": "reason",
    "extension": "reason",
    "review": "reason",
    "dispatch": "category",
    "out_of_scope": "outcome",
    "supervise": "reason",
}


def centre_refusal(context: dict[str, Any], kept: dict[str, Any]) -> None:
    """A refused 驳回 (a return or extension request), 退回重办, 派单, 不予派单 or 督办/挂牌/摘牌 comes
    back as typed: the assignment row (`a.refused`) or the page (`refused_review`, `refused_dispatch`,
    `refused_out_of_scope`, `refused_supervise`) carries the kept values and the field at fault (`bad`:
    marked aria-invalid, it takes the focus)."""
    kind, sep, ident = str(kept.get("action", "")).partition(":")
    if not sep or kind not in CENTRE_KEPT:  # the unit's own forms are kept as "return", "reply", …
        return
    refused: dict[str, Any] = {"values": kept.get("values") or {}, "bad": kept.get("field") or CENTRE_KEPT[kind]}
    if kind in ("return", "extension"):
        for row in context["assignments"]:
            if str(row.pk) == ident:
                row.refused = refused
        return
    if ident != str(context["ticket"].pk):
        return
    if kind == "dispatch":
        chosen = posted_id(refused["values"].get("category"))
        suggested = {category.pk for category, _percent in context.get("suggested_categories", [])}
        # The category shows where it was picked: among the suggestions (with its confidence) if it is one.
        refused["category"] = chosen
        refused["suggested"] = chosen in suggested
    context[f"refused_{kind}"] = refused


@require_GET
@role_required(*STAFF_PAGE_ROLES)
def ticket_print(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """打印工单: the 工单 as a one-page sheet (A4); printing is recorded like an export."""
    reader: User = request.user  # type: ignore[assignment]
    ticket = selectors.ticket_get(reader, ticket_id)
    access.ticket_print_record(ticket=ticket, user=reader)
    context = ticket_context(request, ticket)
    context["printed_at"] = timezone.now()
    context["printed_by"] = person_label(reader)
    return render(request, "tickets/ticket/print.html", context)


@require_GET
@role_required(*CENTRE_PAGE_ROLES)
def ticket_compare(request: HttpRequest, ticket_id: int, other_id: int) -> HttpResponse:
    """并单对比: two tickets side by side, with 并入 buttons in both directions."""
    reader: User = request.user  # type: ignore[assignment]
    left = selectors.ticket_get(reader, ticket_id)
    right = selectors.ticket_get(reader, other_id)
    not_a_master = (TicketState.MERGED, TicketState.CLOSED, TicketState.ANSWERED_DIRECTLY, TicketState.OUT_OF_SCOPE)
    sides: list[dict[str, Any]] = []
    for t, other in ((left, right), (right, left)):
        access.ticket_view_record(ticket=t, user=reader, via="page.compare")
        sides.append(
            {
                "ticket": t,
                "other": other,
                "citizen": privacy.citizen_view(t, reader),
                "text": privacy.citizen_text(t.text, t, reader),
                "can_merge_into_other": t.state in _merge_sources() and other.state not in not_a_master,
            }
        )
    same = {
        "phone": bool(left.citizen_phone) and left.citizen_phone == right.citizen_phone,
        "address": bool(left.citizen_address) and left.citizen_address == right.citizen_address,
        "category": left.category_id is not None and left.category_id == right.category_id,
        "place": left.jurisdiction_id is not None and left.jurisdiction_id == right.jurisdiction_id,
    }
    return render(
        request,
        "tickets/ticket/compare.html",
        {
            "sides": sides,
            "same": same,
            "can_merge": _can(reader, *workflow.DISPATCHERS, Role.ADMIN),
        },
    )


@post_only
@role_required(*CENTRE_PAGE_ROLES)
def ticket_merge(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """并单: this ticket joins the master named by `master`, its whole ticket number (never an internal
    id: a mistyped short number must not pick some other ticket); the child's citizen is told by SMS
    (tickets/reactions.py)."""
    reader: User = request.user  # type: ignore[assignment]
    ticket = selectors.ticket_get(reader, ticket_id)
    given = request.POST.get("master", "").strip()
    found = selectors.ticket_list(reader).filter(number=given[:32]).first() if given else None
    if found is None:
        missing = _("主工单 %(number)s 不存在，请核对工单号") % {"number": given[:32]}
        messages.error(request, missing if given else _("请填写要并入的主工单号"))
        return redirect("ticket-page", ticket_id=ticket.pk)
    master = found
    done = run_service(
        request,
        lambda: workflow.ticket_merge(
            ticket=ticket, master=master, actor=Actor.of(reader), reason=request.POST.get("reason", "")
        ),
        _("工单 %(child)s 已并入 %(master)s，已短信告知市民") % {"child": ticket.number, "master": master.number},
    )
    return redirect("ticket-page", ticket_id=master.pk if done else ticket.pk)


@post_only
@role_required(*CENTRE_PAGE_ROLES)
def ticket_unmerge(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """取消并单: the ticket is handled on its own again (back to 已受理, to be dispatched); its citizen
    is told by SMS."""
    reader: User = request.user  # type: ignore[assignment]
    ticket = selectors.ticket_get(reader, ticket_id)
    run_service(
        request,
        lambda: workflow.ticket_unmerge(ticket=ticket, actor=Actor.of(reader), reason=request.POST.get("reason", "")),
        _("工单 %(n)s 已取消并单，恢复单独办理，已短信告知市民") % {"n": ticket.number},
    )
    return redirect("ticket-page", ticket_id=ticket.pk)


@post_only
@role_required(*STAFF_PAGE_ROLES)
def ticket_note(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """内部备注 between the centre and the unit (never shown to the citizen)."""
    reader: User = request.user  # type: ignore[assignment]
    ticket = selectors.ticket_get(reader, ticket_id)
    if not run_service(
        request,
        lambda: notes.ticket_note_add(ticket=ticket, actor=Actor.of(reader), text=request.POST.get("text", "")),
        _("内部备注已添加"),
    ):
        form_keep(request, where=f"ticket:{ticket.pk}", action="note-add", names=["text"])  # back as typed
        return redirect("ticket-page", ticket_id=ticket.pk)  # not #notes: the browser would skip the focus
    return redirect(reverse("ticket-page", args=[ticket.pk]) + "#notes")
