"""限时办结: clocks of an assignment from the city's SLA policy and the working-day calendar."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from tickets.errors import InvalidInput, TransitionNotAllowed
from tickets.models import Assignment, CalendarDay, CalendarYear, CityProfile, Kind, SlaPolicy, Ticket, Urgency
from tickets.sla.deadlines import CalendarGap, DayType, Limit, WorkCalendar, compute_deadline, working_days_between

log = logging.getLogger("tickets.sla")
DEFAULT_SLA_FILE = Path(__file__).resolve().parent.parent / "data" / "default_sla.json"


@dataclass(frozen=True)
class Clocks:
    sign_due_at: datetime | None
    reply_due_at: datetime | None
    policy: SlaPolicy | None
    calendar_gap: int | None = None  # the year without calendar data, if a deadline reaches it


# --- the calendar, cached per process -----------------------------------------------------

_CACHE: dict[str, object] = {"checked": 0.0, "stamp": None, "calendar": None}
_CACHE_SECONDS = 10.0


def _calendar_stamp() -> tuple[int, str]:
    years = list(CalendarYear.objects.order_by("-imported_at").values_list("year", "imported_at")[:1])
    return (CalendarYear.objects.count(), str(years[0][1]) if years else "")


def work_calendar(*, fresh: bool = False) -> WorkCalendar:
    """The calendar table as a WorkCalendar; reloaded when an import changes it."""
    now = time.monotonic()
    if not fresh and _CACHE["calendar"] is not None and now - float(_CACHE["checked"]) < _CACHE_SECONDS:  # type: ignore[arg-type]
        return _CACHE["calendar"]  # type: ignore[return-value]
    stamp = _calendar_stamp()
    if stamp[0] == 0:
        # An empty table (new install, flushed test database): seed the years the package knows.
        from tickets.services.calendar import calendar_seed_from_package

        calendar_seed_from_package()
        stamp = _calendar_stamp()
    if fresh or stamp != _CACHE["stamp"] or _CACHE["calendar"] is None:
        known = frozenset(CalendarYear.objects.values_list("year", flat=True))
        days = {
            d: DayType(t)
            for d, t in CalendarDay.objects.exclude(day_type__in=["workday", "weekend"]).values_list("date", "day_type")
        }
        _CACHE["calendar"] = WorkCalendar(days=days, known_years=known)
        _CACHE["stamp"] = stamp
    _CACHE["checked"] = now
    return _CACHE["calendar"]  # type: ignore[return-value]


def calendar_invalidate() -> None:
    _CACHE["calendar"] = None


# --- policies --------------------------------------------------------------------------------


def active_profile() -> CityProfile:
    profile = CityProfile.objects.filter(is_active=True).first()
    return profile if profile is not None else profile_ensure_default()


@transaction.atomic
def profile_ensure_default() -> CityProfile:
    """Create the default profile and its policy rows from data/default_sla.json (idempotent)."""
    spec = json.loads(DEFAULT_SLA_FILE.read_text())
    profile, created = CityProfile.objects.get_or_create(name=spec["profile"]["name"], defaults=spec["profile"])
    if created and not CityProfile.objects.filter(is_active=True).exists():
        CityProfile.objects.filter(pk=profile.pk).update(is_active=True)
        profile.is_active = True
    for kind in Kind.values:
        for urgency in Urgency.values:
            sign_amount, sign_unit = spec["sign"][urgency]
            reply_amount, reply_unit = spec["reply"].get(kind, spec["reply"]["*"])[urgency]
            SlaPolicy.objects.get_or_create(
                profile=profile,
                kind=kind,
                urgency=urgency,
                is_current=True,
                defaults={
                    "sign_amount": sign_amount,
                    "sign_unit": sign_unit,
                    "reply_amount": reply_amount,
                    "reply_unit": reply_unit,
                },
            )
    return profile


def policy_for(*, kind: str, urgency: str) -> SlaPolicy | None:
    profile = active_profile()
    return SlaPolicy.objects.filter(profile=profile, kind=kind, urgency=urgency, is_current=True).first()


def assignment_clocks(*, ticket: Ticket, start: datetime) -> Clocks:
    """签收 and 办结 deadlines of a new assignment. A gap in the calendar is flagged, never guessed."""
    policy = policy_for(kind=ticket.kind, urgency=ticket.urgency)
    if policy is None:
        return Clocks(None, None, None)
    calendar = work_calendar()
    gap: int | None = None
    due: list[datetime | None] = []
    for amount, unit in ((policy.sign_amount, policy.sign_unit), (policy.reply_amount, policy.reply_unit)):
        try:
            due.append(compute_deadline(start, Limit(amount, unit), calendar))
        except CalendarGap as missing:
            gap = missing.year
            due.append(None)
    if gap is not None:
        log.warning("calendar gap: year %s has no working-day data (ticket %s)", gap, ticket.number)
    return Clocks(due[0], due[1], policy, gap)


def _working_days(start: datetime, end: datetime) -> int:
    local = timezone.get_current_timezone()
    return working_days_between(start.astimezone(local).date(), end.astimezone(local).date(), work_calendar())


def check_return_window(*, assignment: Assignment, now: datetime) -> None:
    """退回 is allowed only within the policy's window (default 2 working days) after dispatch."""
    window = assignment.sla_policy.return_window_days if assignment.sla_policy else 2
    try:
        elapsed = _working_days(assignment.dispatched_at, now)
    except CalendarGap:
        return  # no calendar data: the centre decides; never refuse on a guess
    if elapsed > window:
        raise TransitionNotAllowed(f"已超过派单后{window}个工作日的退回申请期限", rule="return_window")


def check_extension_request(*, assignment: Assignment, until: datetime, now: datetime) -> None:
    """延期: at most once, asked before the deadline, at most the cap in working days."""
    policy = assignment.sla_policy
    cap = policy.extension_cap_days if policy else 10
    most = policy.max_extensions if policy else 1
    if assignment.extension_count >= most:
        raise TransitionNotAllowed(f"每件工单最多延期{most}次", rule="extension_once")
    if assignment.reply_due_at is None:
        raise TransitionNotAllowed("该派单暂无办结时限，不能申请延期", rule="extension_no_deadline")
    if now > assignment.reply_due_at:
        raise TransitionNotAllowed("已超过办结时限，不能再申请延期", rule="extension_before_deadline")
    if until <= assignment.reply_due_at:
        raise InvalidInput("延期后的时限必须晚于当前时限", field="until", rule="extension_later")
    try:
        extra = _working_days(assignment.reply_due_at, until)
    except CalendarGap as gap:
        raise InvalidInput(
            f"{gap.year}年工作日历尚未导入，暂不能申请延期到该日期", field="until", rule="calendar_gap"
        ) from None
    if extra > cap:
        raise InvalidInput(f"延期不得超过{cap}个工作日", field="until", rule="extension_cap")
