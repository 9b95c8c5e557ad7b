"""承办工作台: a unit's inbox with deadline countdowns and the ticket page with its actions.

Everything goes through tickets.core.services.workflow; unit staff opening another unit's ticket get 404
(the selectors scope every read to the user's unit subtree).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tickets.core import privacy, selectors
from tickets.core.actors import Actor
from tickets.core.models import Assignment
from tickets.core.services import access, workflow
from tickets.core.states import AssignmentState
from tickets.errors import InvalidInput, NotPermitted
from tickets.intake.services import attachments
from tickets.org.models import Unit, User
from tickets.pages.common import (
    CENTRE_PAGE_ROLES,
    UNIT_PAGE_ROLES,
    form_keep,
    post_only,
    posted_id,
    role_required,
    run_service,
    with_due,
)

STATE_ORDER = [
    AssignmentState.PENDING_SIGN,
    AssignmentState.SIGNED,
    AssignmentState.RETURN_REQUESTED,
    AssignmentState.EXTENSION_REQUESTED,
]


# Rows per group: the nearest deadlines first. A busy bureau holds hundreds to thousands of open
# tickets; listing them all made the inbox megabytes, re-rendered on every live event and every
# minute (6,000 open: 3.5 MB, 1.4 s per refresh). The rest are in 工单查询, sorted by deadline.
INBOX_ROWS = 200
# What a refused unit form keeps for the ticket page (files cannot be kept: the browser forgets them).
KEPT_FIELDS = {
    "reply": ("text",),
    "return": ("reason", "legal_basis"),
    "extension": ("until", "reason"),
    "redispatch": ("child_unit", "note"),
}


def _inbox_context(request: HttpRequest) -> dict[str, Any]:
    user: User = request.user  # type: ignore[assignment]
    by_state = selectors.assignment_inbox(user).order_by().values_list("state").annotate(n=Count("id"))
    counts = dict(by_state.values_list("state", "n"))
    groups = []
    for state in STATE_ORDER:
        total = counts.get(state, 0)
        # 待签收 is chased on its sign deadline (30 min for 特急), not on the reply's days later.
        due = "sign_due_at" if state == AssignmentState.PENDING_SIGN else "reply_due_at"
        rows = with_due(selectors.assignment_inbox(user, state=state, due=due)[:INBOX_ROWS], due) if total else []
        for row in rows:
            row.text_shown = privacy.citizen_text(row.ticket.text, row.ticket, user)
            row.due_shown = getattr(row, due)
        due_label = _("签收时限") if due == "sign_due_at" else _("办结时限")
        groups.append({"label": AssignmentState(state).label, "rows": rows, "total": total, "due_label": due_label})
    replied = list(selectors.assignment_replied_recent(user)[:50])
    for row in replied:
        row.text_shown = privacy.citizen_text(row.ticket.text, row.ticket, user)  # type: ignore[attr-defined]
    open_count = sum(group["total"] for group in groups)
    return {"groups": groups, "replied": replied, "open_count": open_count, "now": timezone.now()}


@require_GET
@role_required(*UNIT_PAGE_ROLES)
def inbox(request: HttpRequest) -> HttpResponse:
    return render(request, "tickets/unit/inbox.html", _inbox_context(request))


@require_GET
@role_required(*UNIT_PAGE_ROLES)
def inbox_fragment(request: HttpRequest) -> HttpResponse:
    return render(request, "tickets/unit/_inbox.html", _inbox_context(request))


def _own_assignment(request: HttpRequest, ticket_id: int) -> Assignment | None:
    """This unit's newest assignment on the ticket (None when only a descendant holds it)."""
    unit = request.user.unit  # type: ignore[union-attr]
    return (
        selectors.assignment_queryset_for(request.user)  # type: ignore[arg-type]
        .filter(ticket_id=ticket_id, unit=unit)
        .order_by("-id")
        .first()
    )


@require_GET
@role_required(*UNIT_PAGE_ROLES, *CENTRE_PAGE_ROLES)
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The old address of the unit's ticket page: the one ticket page now serves every role
    (scoped first, so another unit's ticket is still a 404 here)."""
    selectors.ticket_get(request.user, ticket_id)  # type: ignore[arg-type]
    return redirect("ticket-page", ticket_id=ticket_id)


def _parse_local(value: str) -> datetime:
    try:
        naive = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(_("请填写正确的延期日期和时间"), field="until") from exc
    return timezone.make_aware(naive) if timezone.is_naive(naive) else naive


@post_only
@role_required(*UNIT_PAGE_ROLES)
def ticket_action(request: HttpRequest, ticket_id: int, action: str) -> HttpResponse:
    """签收 / 办复 / 申请退回 / 申请延期 / 下派 on this unit's assignment."""
    selectors.ticket_get(request.user, ticket_id)  # type: ignore[arg-type]  # 404 for another unit's ticket
    assignment = _own_assignment(request, ticket_id)
    back = redirect("ticket-page", ticket_id=ticket_id)
    if assignment is None:
        messages.error(request, _("本单位没有可办理的派单（已下派的工单由下级单位办理）"))
        return back
    actor = Actor.of(request.user)  # type: ignore[arg-type]
    data = request.POST
    actions: dict[str, tuple[Any, str]] = {
        "sign": (lambda: workflow.assignment_sign(assignment=assignment, actor=actor), _("已签收")),
        "reply": (
            lambda: _reply_with_attachments(request, assignment, actor),
            _("已办复，等待热线中心审核"),
        ),
        "return": (
            lambda: workflow.assignment_request_return(
                assignment=assignment,
                actor=actor,
                reason=data.get("reason", ""),
                legal_basis=data.get("legal_basis", ""),
            ),
            _("已申请退回，等待热线中心审核"),
        ),
        "extension": (
            lambda: workflow.assignment_request_extension(
                assignment=assignment,
                actor=actor,
                until=_parse_local(data.get("until", "")),
                reason=data.get("reason", ""),
            ),
            _("已申请延期，等待热线中心审核"),
        ),
        "redispatch": (
            lambda: workflow.assignment_redispatch(
                assignment=assignment,
                actor=actor,
                child_unit=_child_unit(request, data.get("child_unit", "")),
                note=data.get("note", ""),
            ),
            _("已下派给下级单位"),
        ),
    }
    if action in actions:
        call, success = actions[action]
        if not run_service(request, call, success):
            form_keep(request, where=f"ticket:{ticket_id}", action=action, names=KEPT_FIELDS.get(action, ()))
    return back


@transaction.atomic
def _reply_with_attachments(request: HttpRequest, assignment: Assignment, actor: Actor) -> None:
    """办复 and its attachments together: a refused file refuses the reply (nothing half-stored)."""
    workflow.assignment_reply(assignment=assignment, actor=actor, text=request.POST.get("text", ""))
    files = request.FILES.getlist("attachments")
    if files:
        attachments.reply_attachments_add(
            ticket=assignment.ticket,
            assignment=assignment,
            files=files,
            user=request.user,  # type: ignore[arg-type]
        )


def _child_unit(request: HttpRequest, unit_id: str) -> Unit:
    unit = Unit.objects.filter(pk=posted_id(unit_id) or 0, is_active=True).first()
    if unit is None:
        raise InvalidInput(_("请选择下级单位"), field="child_unit")
    return unit


@post_only
@role_required(*UNIT_PAGE_ROLES)
def reveal_phone(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """查看完整号码: shown once, recorded by `access.ticket_phone_reveal` (the API's rule: unit staff
    never on 保密/匿名 tickets)."""
    reader: User = request.user  # type: ignore[assignment]
    ticket = selectors.ticket_get(reader, ticket_id)
    try:
        phone = access.ticket_phone_reveal(ticket=ticket, user=reader, via="page.unit")
    except NotPermitted as exc:
        return HttpResponse(format_html('<span role="alert">{}</span>', exc.message), status=403)
    if request.headers.get("HX-Request"):
        shown = format_html(
            '<span data-testid="phone-full">{}</span>{}', privacy.phone_display(phone), _("（已记录查看）")
        )
        return HttpResponse(shown)
    return JsonResponse({"citizen_phone": phone, "recorded": True})
