"""督办看板, second half: scorecards with charts, drill-down to a unit's tickets, 不满意 review.

The charts are drawn in the browser (static/js/scorecards.js, Apache ECharts) from the metrics
APIs; this module serves the pages, the drill-down list and the review form.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from tickets.core.actors import Actor
from tickets.core.dates import month_parse
from tickets.core.models import Assignment
from tickets.errors import InvalidInput
from tickets.feedback.models import Cause, Rating
from tickets.feedback.services import review
from tickets.metrics.selectors import period_range
from tickets.org.models import Role, Unit
from tickets.pages.common import CENTRE_PAGE_ROLES, post_only, role_required, run_service

GROUP_CHOICES = [
    ("departments", gettext_lazy("职能部门")),
    ("districts", gettext_lazy("区（县）")),
    ("streets", gettext_lazy("街道（乡镇）及社区（村）")),
    ("utilities", gettext_lazy("公共服务企业")),
]
REVIEW_PAGE_ROLES = (Role.SUPERVISOR, Role.ADMIN)
DRILL_ROWS = 200  # a unit's month in the drill-down, newest first; the heading counts them all


def _month(request: HttpRequest) -> date:
    """?month=YYYY-MM, else this month; a bad value falls back to this month with a message."""
    raw = request.GET.get("month", "")
    if raw:
        try:
            return month_parse(raw, field="month")
        except InvalidInput as exc:
            shown = {"raw": raw[:20], "why": exc.message}
            messages.warning(request, _("月份“%(raw)s”无效（%(why)s），已显示本月") % shown)
    return timezone.localdate().replace(day=1)


@require_GET
@role_required(*CENTRE_PAGE_ROLES)
def scorecards(request: HttpRequest) -> HttpResponse:
    group = request.GET.get("group", "departments")
    if group not in dict(GROUP_CHOICES):
        group = "departments"
    month = _month(request)
    return render(
        request,
        "tickets/board/scorecards.html",
        {"groups": GROUP_CHOICES, "group": group, "month": month.strftime("%Y-%m"), "tab": "scorecards"},
    )


def _on_time_label(assignment: Any, now: datetime) -> tuple[str, str]:
    """What the supervisor reads in the 按时 column, and its colour class."""
    if assignment is None:
        return _("未派单"), "due-none"
    if assignment.reply_on_time is True:
        return _("按时办复"), "due-ok"
    if assignment.reply_on_time is False:
        return _("超期办复"), "due-red"
    if assignment.reply_due_at and assignment.reply_due_at < now:
        return _("已超期未办复"), "due-red"
    return _("办理中"), "due-amber"


@require_GET
@role_required(*CENTRE_PAGE_ROLES)
def unit_tickets(request: HttpRequest, code: str) -> HttpResponse:
    """Drill-down from a scorecard row: what the row counts, the unit's assignments dispatched in the
    month (主办 and 协办, a 下派 to it, a returned one: each is one 派单 of the scorecard, by its
    day), each with its 签收 and 办复 verdicts."""
    unit = Unit.objects.filter(code=code).first()
    if unit is None:
        raise Http404(_("单位不存在"))
    month = _month(request)
    start, end = period_range("month", month)
    since = timezone.make_aware(datetime.combine(start, time.min))  # the month's local days, as bounds
    until = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min))
    dispatched = Assignment.objects.filter(unit=unit, dispatched_at__gte=since, dispatched_at__lt=until)
    by_role = dict(dispatched.order_by().values_list("role").annotate(n=Count("id")).values_list("role", "n"))
    rows = list(dispatched.select_related("ticket").order_by("-dispatched_at", "-id")[:DRILL_ROWS])
    now = timezone.now()
    for row in rows:
        row.on_time_label, row.on_time_css = _on_time_label(row, now)  # type: ignore[attr-defined]
        row.sign_label = _sign_label(row, now)  # type: ignore[attr-defined]
    context = {
        "unit": unit,
        "month": month.strftime("%Y-%m"),
        "assignments": rows,
        "total": sum(by_role.values()),
        "leads": by_role.get("lead", 0),
        "assists": sum(n for role, n in by_role.items() if role != "lead"),
        "tab": "scorecards",
    }
    return render(request, "tickets/board/unit_tickets.html", context)


def _sign_label(assignment: Assignment, now: datetime) -> str:
    """The 签收 verdict the 按时签收率 counts."""
    if assignment.signed_at is not None:
        return _("按时签收") if assignment.sign_on_time else _("超时签收")
    if assignment.ended_at is not None:
        return _("未签收")
    if assignment.sign_due_at and assignment.sign_due_at < now:
        return _("已超时未签收")
    return _("待签收")


def _ratings_page(
    request: HttpRequest, *, typed: dict[int, dict[str, str]] | None = None, status: int = 200
) -> HttpResponse:
    queue = list(review.dissatisfied_queue()[:100])
    typed = typed or {}
    for row in queue:
        row.typed = typed.get(row.pk, {})  # type: ignore[attr-defined]
        # The cause the form starts on: what was typed, else what the 回访 operator judged.
        judged = row.cause if row.cause in (Cause.SUBJECTIVE, Cause.OBJECTIVE) else ""
        row.cause_chosen = row.typed.get("cause", judged)  # type: ignore[attr-defined]
    user = request.user
    can_decide = bool(user.is_superuser or getattr(user, "role", None) == Role.SUPERVISOR)
    context = {
        "ratings": queue,
        "can_decide": can_decide,
        "causes": [(Cause.SUBJECTIVE, Cause.SUBJECTIVE.label), (Cause.OBJECTIVE, Cause.OBJECTIVE.label)],
        "tab": "ratings",
    }
    return render(request, "tickets/board/ratings.html", context, status=status)


@require_GET
@role_required(*REVIEW_PAGE_ROLES)
def ratings(request: HttpRequest) -> HttpResponse:
    """不满意审核: ratings the citizen gave 不满意 for the unit's own reasons (or not yet judged), oldest first."""
    return _ratings_page(request)


@post_only
@role_required(*REVIEW_PAGE_ROLES)
def rating_decide(request: HttpRequest, rating_id: int) -> HttpResponse:
    """判定主观/客观 and rule: 重办 (主观 only) or 说明办结. A refused try shows the page again with what
    the supervisor typed and chose, and the reason for the refusal."""
    rating = Rating.objects.select_related("ticket").filter(pk=rating_id).first()
    if rating is None:
        raise Http404(_("评价不存在"))
    decision = request.POST.get("decision", "")
    cause = request.POST.get("cause", "")
    reason = request.POST.get("reason", "")
    number = {"number": rating.ticket.number}
    if decision == "reopen":
        done = _("工单 %(number)s 已决定重办") % number
    else:
        done = _("工单 %(number)s 已说明办结") % number
    decided = run_service(
        request,
        lambda: review.rating_decide(
            rating=rating,
            actor=Actor.of(request.user),  # type: ignore[arg-type]
            decision=decision,
            reason=reason,
            cause=cause,
        ),
        done,
    )
    if decided:
        return redirect("board-ratings")
    return _ratings_page(request, typed={rating.pk: {"reason": reason, "cause": cause}}, status=400)
