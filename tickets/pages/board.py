"""督办看板: overdue, due today/tomorrow and problem/flagged tickets, refreshed from the live feed.

Supervisors issue 督办, 挂牌督办 and 摘牌 from the board through tickets.supervision.services.supervision.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tickets.core import selectors
from tickets.core.actors import Actor
from tickets.core.states import OPEN_ASSIGNMENT_STATES
from tickets.errors import DomainError, NotFound
from tickets.org.models import Role
from tickets.pages.common import (
    CENTRE_PAGE_ROLES,
    back_or,
    form_keep_refused,
    form_kept,
    from_ticket_page,
    post_only,
    role_required,
    run_service,
    with_due,
)
from tickets.supervision import selectors as supervision_selectors
from tickets.supervision.services import supervision


def overdue_text(due: datetime | None, now: datetime) -> str:
    """超期多久 (wall clock): 超期 2 天 3 小时, 超期 5 小时, 超期 20 分钟; "" when not overdue."""
    if due is None or due >= now:
        return ""
    minutes = int((now - due).total_seconds() // 60)
    days, hours = minutes // (24 * 60), minutes % (24 * 60) // 60
    if days:
        return _("超期 %(days)s 天 %(hours)s 小时") % {"days": days, "hours": hours}
    if hours:
        return _("超期 %(hours)s 小时") % {"hours": hours}
    return _("超期 %(minutes)s 分钟") % {"minutes": max(minutes, 1)}


# 工单查询 under each section's filter (its query string), where the tickets past the board's cap are.
OVERDUE_LIST, DUE_LIST = "?overdue=true&sort=due", "?sort=due"


def _context(request: HttpRequest) -> dict[str, Any]:
    groups = selectors.board_tickets(request.user)  # type: ignore[arg-type]
    now = timezone.now()
    shown = [t for rows in groups.values() for t in rows]
    issued = supervision_selectors.latest_supervisions([t.pk for t in shown])
    for ticket in shown:
        ticket.overdue_for = overdue_text(ticket.due_at, now)  # type: ignore[attr-defined]
        ticket.last_supervision = issued.get(ticket.pk)  # type: ignore[attr-defined]
    user = request.user
    return {
        "tab": "board",
        "routing_stalled": selectors.routing_stalled_count(user, now),  # type: ignore[arg-type]
        "handover_seconds": round(settings.ROUTING_HANDOVER_SECONDS),
        "can_supervise": bool(user.is_superuser or getattr(user, "role", None) == Role.SUPERVISOR),
        "sections": [
            ("overdue", _("已超期"), with_due(groups["overdue"], "due_at"), [(_("全部已超期工单"), OVERDUE_LIST)]),
            ("due_soon", _("今明两天到期"), with_due(groups["due_soon"], "due_at"), [(_("按办结时限排序"), DUE_LIST)]),
            (
                "problem",
                _("问题工单与挂牌督办"),
                with_due(groups["problem"], "due_at"),
                [(_("全部挂牌督办工单"), "?is_flagged=true"), (_("全部问题工单"), "?is_problem=true")],
            ),
        ],
        "board_cap": selectors.BOARD_SECTION_MAX,
    }


def _keep_refused(request: HttpRequest, context: dict[str, Any]) -> None:
    """A refused 督办/挂牌/摘牌 comes back on the board as typed, in the ticket's first row.

    A ticket can stand in two sections (overdue and flagged): the kept words go to one form only, so
    one field is marked and focused. The panel's live refresh then waits until the form is sent
    (live.js holds a panel with a marked field)."""
    kept = form_kept(request, where="board")
    if kept is None or not str(kept.get("action", "")).startswith("supervise:"):
        return
    ticket_id = int(str(kept["action"]).split(":", 1)[1])
    for _key, _label, rows, _links in context["sections"]:
        for ticket in rows:
            if ticket.pk == ticket_id:
                ticket.kept = kept
                return


@require_GET
@role_required(*CENTRE_PAGE_ROLES)
def board(request: HttpRequest) -> HttpResponse:
    context = _context(request)
    _keep_refused(request, context)
    return render(request, "tickets/board/board.html", context)


@require_GET
@role_required(*CENTRE_PAGE_ROLES)
def board_fragment(request: HttpRequest) -> HttpResponse:
    return render(request, "tickets/board/_board.html", _context(request))


@post_only
@role_required(*CENTRE_PAGE_ROLES)
def board_action(request: HttpRequest, ticket_id: int, action: str) -> HttpResponse:
    """督办 (supervise), 挂牌督办 (flag) or 摘牌 (unflag) through tickets.supervision.services.supervision."""
    ticket = selectors.ticket_get(request.user, ticket_id)  # type: ignore[arg-type]
    actor = Actor.of(request.user)  # type: ignore[arg-type]
    text = request.POST.get("reason", "")
    number = {"number": ticket.number}
    actions: dict[str, tuple[Callable[[], Any], str]] = {
        "supervise": (
            lambda: supervision.ticket_supervise(ticket=ticket, actor=actor, note=text),
            _("工单 %(number)s 已发出督办") % number,
        ),
        "flag": (
            lambda: supervision.ticket_flag(ticket=ticket, actor=actor, reason=text),
            _("工单 %(number)s 已挂牌督办") % number,
        ),
        "unflag": (
            lambda: supervision.ticket_unflag(ticket=ticket, actor=actor, reason=text),
            _("工单 %(number)s 已摘牌") % number,
        ),
    }
    if action not in actions:
        raise Http404(_("未知的督办操作"))
    call, success = actions[action]

    def named() -> Any:
        """The board holds one form per ticket: a refusal says which ticket it is about (the
        ticket page, which names it in its heading, shows the reason alone)."""
        try:
            return call()
        except DomainError as exc:
            if isinstance(exc, NotFound) or from_ticket_page(request):
                raise
            message = _("工单 %(number)s：%(reason)s") % {**number, "reason": exc}
            raise type(exc)(message, rule=exc.rule, field=exc.field) from exc

    if not run_service(request, named, success):
        # The form comes back with the 督办意见 as typed (one form, three buttons: kept as
        # "supervise"), on the ticket page or on the board.
        form_keep_refused(request, f"supervise:{ticket.pk}", ("reason",), ticket_id=ticket.pk, elsewhere="board")
    elif action == "flag" and not ticket.assignments.filter(state__in=OPEN_ASSIGNMENT_STATES).exists():
        # 挂牌 with no unit handling the ticket (待派单, or awaiting the centre's review): recorded, but
        # nobody was told; the supervisor should know that.
        messages.warning(request, _("该工单当前没有在办的承办单位，挂牌已记录，未通知任何单位"))
    return back_or(request, "board")
