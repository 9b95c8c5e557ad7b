"""热点与未诉先办: today's and this week's clusters against their baseline, surge alerts arriving live,
the places and categories behind each, drill-down to the tickets, and the month's most recurring
matters (每月一题 candidates). Clusters come from tickets.duplicates.services.hotspots; the charts are
drawn by static/js/hotspots.js with the vendored ECharts from the same numbers the tables show.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tickets.core.dates import month_parse
from tickets.core.models import Ticket
from tickets.duplicates.models import HotspotAlert
from tickets.duplicates.services import hotspots
from tickets.errors import InvalidInput
from tickets.org.models import Role, User
from tickets.pages.common import CENTRE_PAGE_ROLES, post_only, role_required
from tickets.pages.lists import ticket_url

SCAN_ROLES = (Role.SUPERVISOR, Role.ADMIN)


def _month(request: HttpRequest, today: date) -> tuple[date, str]:
    raw = request.GET.get("month", "")
    if raw:
        try:
            return month_parse(raw, field="month"), ""
        except InvalidInput:
            return today.replace(day=1), _("月份格式应为 年-月，如 2026-11；已显示本月")
    return today.replace(day=1), ""


def _last_months(today: date, n: int) -> list[tuple[str, str]]:
    """(YYYY-MM, "2026年12月") for this month and the n - 1 before it, newest first."""
    out, day = [], today.replace(day=1)
    for _i in range(n):
        out.append((day.strftime("%Y-%m"), _("%(y)s年%(m)s月") % {"y": day.year, "m": day.month}))
        day = (day - timedelta(days=1)).replace(day=1)
    return out


def _trend(spot: dict[str, Any]) -> tuple[str, str]:
    trend = spot["trend"]
    if trend is None:
        return _("新出现"), "trend-new"
    if trend > 0:
        return _("上升 %(p)s%%") % {"p": round(trend * 100)}, "trend-up"
    if trend < 0:
        return _("下降 %(p)s%%") % {"p": round(-trend * 100)}, "trend-down"
    return _("持平"), ""


def _decorate(spots: list[dict[str, Any]], user: User) -> list[dict[str, Any]]:
    out = []
    for spot in spots:
        label, css = _trend(spot)
        out.append(
            {
                **spot,
                "trend_label": label,
                "trend_css": css,
                "links": [(ticket_url(pk, user), number, title) for pk, number, title in spot["tickets"]],
            }
        )
    return out


def _alerts(user: User) -> list[dict[str, Any]]:
    since = timezone.localdate() - timedelta(days=7)
    rows = list(HotspotAlert.objects.filter(day__gte=since).order_by("-id")[:20])
    wanted = {pk for a in rows for pk in a.ticket_ids[:20]}
    numbers = dict(Ticket.objects.filter(pk__in=wanted).values_list("id", "number"))
    return [
        {
            "alert": a,
            "links": [(ticket_url(pk, user), numbers.get(pk, pk)) for pk in a.ticket_ids[:20]],
            "url": ticket_url(a.representative_id, user),
        }
        for a in rows
    ]


@require_GET
@role_required(*CENTRE_PAGE_ROLES)
def hotspots_page(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    now = timezone.now()
    today = timezone.localdate(now)
    month, month_error = _month(request, today)
    periods = hotspots.page_periods(today, month)
    today_found, week_found, month_found = (
        hotspots.hotspot_summaries(**periods[name]) for name in ("today", "week", "month")
    )
    today_spots, week_spots = _decorate(today_found["spots"], user), _decorate(week_found["spots"], user)
    month_spots = _decorate(month_found["spots"], user)
    counted = [found["computed_at"] for found in (today_found, week_found, month_found) if found["computed_at"]]
    chart = {
        "today": [{"label": s["label"], "size": s["size"], "previous": s["previous"]} for s in today_spots],
        "week": [{"label": s["label"], "size": s["size"], "previous": s["previous"]} for s in week_spots],
    }
    if month_error:
        messages.info(request, month_error)
    return render(
        request,
        "tickets/board/hotspots.html",
        {
            "tab": "hotspots",
            "sections": [
                ("today", _("今日热点"), _("与昨日同一时段相比"), today_spots, today_found["computed_at"] is None),
                ("week", _("近七日热点"), _("与前七日相比"), week_spots, week_found["computed_at"] is None),
            ],
            "month_spots": month_spots,
            "month": month.strftime("%Y-%m"),
            "months": _last_months(today, 12),
            "alerts": _alerts(user),
            "chart": chart,
            "computed_at": min(counted) if counted else None,
            "month_pending": month_found["computed_at"] is None,
            "unavailable": any(found.get("unavailable") for found in (today_found, week_found, month_found)),
            "can_scan": bool(user.is_superuser or user.role in SCAN_ROLES),
        },
    )


@require_GET
@role_required(*CENTRE_PAGE_ROLES)
def hotspots_alerts(request: HttpRequest) -> HttpResponse:
    """The surge-alert list alone: re-fetched by live.js when a `hotspot.surge` event arrives."""
    return render(request, "tickets/board/_hotspot_alerts.html", {"alerts": _alerts(request.user)})  # type: ignore[arg-type]


@post_only
@role_required(*SCAN_ROLES)
def hotspots_scan(request: HttpRequest) -> HttpResponse:
    """立即检测: run the surge scan the beat runs every few minutes, now (e.g. after a burst of calls)."""
    found = hotspots.hotspot_surge_scan()
    if found:
        messages.success(request, _("发现 %(n)s 个激增热点，已通知各席位") % {"n": len(found)})
    else:
        messages.info(request, _("未发现新的激增热点"))
    return redirect("hotspots")
