"""Scorecard reads: §6 metrics per unit, per unit group, per period, from the unit-day counters."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import QuerySet, Sum

from tickets.db_router import on_replica
from tickets.errors import InvalidInput, NotPermitted
from tickets.metrics.models import COUNTERS, MetricsConfig, UnitDayStats, UnitMonthStats
from tickets.org.models import UNIT_GROUPS, Unit, UnitKind, User

PERIODS = ("day", "week", "month", "year")
GROUPS = tuple(sorted(set(UNIT_GROUPS.values())))
READ_ALL_ROLES = ("operator", "dispatcher", "supervisor", "admin")


def period_range(period: str, day: date) -> tuple[date, date]:
    """The first and last day of the period containing `day` (weeks start on Monday)."""
    if period == "day":
        return day, day
    if period == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    if period == "month":
        return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])
    if period == "year":
        return date(day.year, 1, 1), date(day.year, 12, 31)
    raise InvalidInput("统计周期只能是 day、week、month 或 year", field="period", rule="enum")


def metrics_config() -> MetricsConfig:
    return MetricsConfig.objects.order_by("-id").first() or MetricsConfig()


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _share(numerator: float, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def rates(counts: dict[str, int], config: MetricsConfig) -> dict[str, float | None]:
    """Every §6 ratio from summed counters (None when the denominator is 0)."""
    valid = counts["valid_callbacks"]
    response = _ratio(counts["contacted"], valid)
    solved = _ratio(counts["solved"], valid)
    satisfaction = _ratio(counts["satisfied"] + config.basic_weight * counts["basically_satisfied"], valid)
    composite = None
    if valid:  # from the unrounded rates
        composite = round(
            config.response_weight * _share(counts["contacted"], valid)
            + config.solved_weight * _share(counts["solved"], valid)
            + config.satisfaction_weight
            * _share(counts["satisfied"] + config.basic_weight * counts["basically_satisfied"], valid),
            4,
        )
    return {
        "sign_on_time_rate": _ratio(counts["signed_on_time"], counts["dispatched"]),
        "reply_on_time_rate": _ratio(counts["replied_on_time"], counts["due"]),
        "return_rate": _ratio(counts["returns_approved"], counts["dispatched"]),
        "reopen_rate": _ratio(counts["reopened"], counts["closed"]),
        "first_time_rate": _ratio(counts["closed_first_time"], counts["closed"]),
        "direct_answer_rate": _ratio(counts["answered_directly"], counts["accepted"]),
        # The centre's base is the tickets it accepted, a unit's the tickets it led (the centre never leads).
        "repeat_call_rate": _ratio(counts["repeat_calls"], counts["accepted"] + counts["led"]),
        "response_rate": response,
        "solved_rate": solved,
        "satisfaction_rate": satisfaction,
        "composite": composite,
    }


@dataclass(frozen=True)
class Scope:
    """Which units a reader may see: centre roles all, unit staff their unit and its descendants."""

    path_prefix: str | None

    @classmethod
    def of(cls, user: User) -> Scope:
        if user.is_superuser or user.role in READ_ALL_ROLES:
            return cls(None)
        if user.unit is None:
            raise NotPermitted("没有所属单位，无法查看考核数据", rule="unit_scope")
        return cls(user.unit.path)

    def units(self) -> QuerySet[Unit]:
        qs = Unit.objects.all()
        return qs if self.path_prefix is None else qs.filter(path__startswith=self.path_prefix)


def _group_kinds(group: str | None) -> list[str] | None:
    if not group:
        return None
    if group not in GROUPS:
        raise InvalidInput(f"单位分组只能是 {'、'.join(GROUPS)}", field="group", rule="enum")
    return [kind for kind, name in UNIT_GROUPS.items() if name == group]


@on_replica
def unit_scorecards(*, user: User, period: str, day: date, group: str | None = None) -> dict[str, Any]:
    """One row per unit (counts and rates) and the group's total, over the period containing `day`."""
    start, end = period_range(period, day)
    scope = Scope.of(user)
    units = scope.units()
    kinds = _group_kinds(group)
    if kinds is not None:
        units = units.filter(kind__in=kinds)
    unit_rows = {u.id: u for u in units.only("id", "code", "name", "kind")}
    stats: QuerySet[UnitMonthStats] | QuerySet[UnitDayStats]
    if period in ("month", "year"):  # whole months: the month rows hold the same sums
        stats = UnitMonthStats.objects.filter(month__gte=start, month__lte=end)
    else:
        stats = UnitDayStats.objects.filter(day__gte=start, day__lte=end)
    if scope.path_prefix is not None or kinds is not None:  # all units: no id list to check row by row
        stats = stats.filter(unit_id__in=list(unit_rows))
    sums = stats.values("unit_id").annotate(**{c: Sum(c) for c in COUNTERS})
    config = metrics_config()
    totals = dict.fromkeys(COUNTERS, 0)
    rows = []
    found = {row["unit_id"]: row for row in sums}
    for unit_id, unit in unit_rows.items():
        counts = {c: int(found.get(unit_id, {}).get(c) or 0) for c in COUNTERS}
        for c in COUNTERS:
            totals[c] += counts[c]
        rows.append({"unit": unit.code, "unit_name": unit.name, "kind": unit.kind, **counts, **rates(counts, config)})
    rows.sort(key=lambda r: str(r["unit"]))
    return {
        "period": period,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "group": group or "",
        "units": rows,
        "total": {**totals, **rates(totals, config)},
    }


@on_replica
def ranking(*, user: User, month: date, group: str) -> dict[str, Any]:
    """红榜/黑榜: the group's units of the month by composite (三率), top N and bottom N, with last month."""
    if not group:
        raise InvalidInput("请选择单位分组", field="group", rule="required")
    size = metrics_config().ranking_size
    current = unit_scorecards(user=user, period="month", day=month, group=group)
    previous_day = month.replace(day=1) - timedelta(days=1)
    previous = {
        r["unit"]: r["composite"]
        for r in unit_scorecards(user=user, period="month", day=previous_day, group=group)["units"]
    }
    scored = [r for r in current["units"] if r["composite"] is not None]
    scored.sort(key=lambda r: (-r["composite"], r["unit"]))
    board = [
        {
            "rank": i + 1,
            "unit": r["unit"],
            "unit_name": r["unit_name"],
            "composite": r["composite"],
            "previous": previous.get(r["unit"]),
            "trend": None if previous.get(r["unit"]) is None else round(r["composite"] - previous[r["unit"]], 4),
        }
        for i, r in enumerate(scored)
    ]
    return {
        "month": month.strftime("%Y-%m"),
        "group": group,
        "ranking": board,
        "top": board[:size],
        "bottom": list(reversed(board[-size:])) if board else [],
    }


RATE_KEYS = (
    "sign_on_time_rate",
    "reply_on_time_rate",
    "return_rate",
    "reopen_rate",
    "first_time_rate",
    "direct_answer_rate",
    "repeat_call_rate",
    "response_rate",
    "solved_rate",
    "satisfaction_rate",
    "composite",
)
TREND_MAX_MONTHS = 36


def _months_back(end: date, count: int) -> list[date]:
    """The first days of the `count` months ending with the month of `end`, oldest first."""
    year, month = end.year, end.month
    out = []
    for _ in range(count):
        out.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def trends(
    *, user: User, end: date, months: int, group: str, metric: str = "composite", unit: str | None = None
) -> dict[str, Any]:
    """走势: one metric month by month over the last `months` months, per unit of a group and for the group.

    Reads the month rows only (one query). A month without valid data gives null, never 0, so a
    chart shows a gap instead of a false drop.
    """
    if not group:
        raise InvalidInput("请选择单位分组", field="group", rule="required")
    if metric not in RATE_KEYS:
        raise InvalidInput(f"指标只能是 {'、'.join(RATE_KEYS)}", field="metric", rule="enum")
    if not 1 <= months <= TREND_MAX_MONTHS:
        raise InvalidInput(f"月数须在 1 到 {TREND_MAX_MONTHS} 之间", field="months", rule="range")
    kinds = _group_kinds(group)
    units = Scope.of(user).units().filter(kind__in=kinds or [])
    if unit:
        units = units.filter(code=unit)
        if not units.exists():
            raise InvalidInput("该分组中没有这个单位（或无权查看）", field="unit", rule="unit_scope")
    unit_rows = {u.id: u for u in units.only("id", "code", "name", "kind")}
    firsts = _months_back(end, months)
    sums = (
        UnitMonthStats.objects.filter(month__gte=firsts[0], month__lte=firsts[-1], unit_id__in=list(unit_rows))
        .values("unit_id", "month")
        .annotate(**{c: Sum(c) for c in COUNTERS})
    )
    found = {(row["unit_id"], row["month"]): row for row in sums}
    config = metrics_config()
    group_counts = {m: dict.fromkeys(COUNTERS, 0) for m in firsts}
    series = []
    for unit_id, u in sorted(unit_rows.items(), key=lambda item: item[1].code):
        values: list[float | None] = []
        for m in firsts:
            counts = {c: int(found.get((unit_id, m), {}).get(c) or 0) for c in COUNTERS}
            for c in COUNTERS:
                group_counts[m][c] += counts[c]
            values.append(rates(counts, config)[metric])
        series.append({"unit": u.code, "unit_name": u.name, "values": values})
    return {
        "group": group,
        "metric": metric,
        "months": [m.strftime("%Y-%m") for m in firsts],
        "group_values": [rates(group_counts[m], config)[metric] for m in firsts],
        "units": series,
    }


__all__ = ["PERIODS", "RATE_KEYS", "period_range", "ranking", "rates", "trends", "unit_scorecards"]


@on_replica
def repeat_call_rate(*, start: date, end: date) -> dict[str, Any]:
    """重复来电率 of the whole city over [start, end] (local days): the centre's scorecard counters.

    The one definition is the scorecards' (tickets.metrics.services.rules: a same-caller link
    within the window counts on the day the repeat ticket came in, over the tickets accepted).
    """
    sums = UnitDayStats.objects.filter(unit__kind=UnitKind.CENTRE, day__gte=start, day__lte=end).aggregate(
        repeats=Sum("repeat_calls"), accepted=Sum("accepted")
    )
    repeats, accepted = int(sums["repeats"] or 0), int(sums["accepted"] or 0)
    rate = rates({**dict.fromkeys(COUNTERS, 0), "repeat_calls": repeats, "accepted": accepted}, metrics_config())
    return {"repeats": repeats, "tickets": accepted, "rate": rate["repeat_call_rate"] or 0.0}
