"""限时办结: clocks of an assignment from the city's SLA policy and the working-day calendar."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from tickets.core.memo import memoised
from tickets.core.models import Assignment, Kind, Ticket, Urgency
from tickets.errors import InvalidInput, TransitionNotAllowed
from tickets.sla.deadlines import (
    SHANGHAI,
    CalendarGap,
    DayType,
    Limit,
    LimitUnit,
    WorkCalendar,
    WorkCalendarLike,
    add_working_days,
    compute_deadline,
    public_notice_at,
    reminder_at,
    working_days_between,
)
from tickets.sla.models import CalendarDay, CalendarYear, CityProfile, SlaPolicy

log = logging.getLogger("tickets.sla")
DEFAULT_SLA_FILE = Path(__file__).resolve().parents[2] / "data" / "default_sla.json"


@dataclass(frozen=True)
class Levels:
    """When the scanner acts on a reply deadline: 催办 before it, 督办 after it, 通报 later."""

    warn_at: datetime | None = None
    supervise_at: datetime | None = None
    notice_at: datetime | None = None


@dataclass(frozen=True)
class Clocks:
    sign_due_at: datetime | None
    reply_due_at: datetime | None
    policy: SlaPolicy | None
    calendar_gap: int | None = None  # the year without calendar data, if a deadline reaches it
    levels: Levels = Levels()

    def fields(self) -> dict[str, object]:
        """The Assignment columns these clocks fill in."""
        return {
            "sign_due_at": self.sign_due_at,
            "reply_due_at": self.reply_due_at,
            "sla_policy": self.policy,
            "calendar_gap_year": self.calendar_gap,
            "warn_at": self.levels.warn_at,
            "supervise_at": self.levels.supervise_at,
            "notice_at": self.levels.notice_at,
        }


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
        # function-level: tickets.sla.services.calendar imports this module while loading (import cycle)
        from tickets.sla.services.calendar import calendar_seed_from_package

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
    profile = memoised("active_profile", lambda: CityProfile.objects.filter(is_active=True).first(), reference=True)
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
    return memoised(
        ("sla_policy", profile.pk, kind, urgency),
        lambda: SlaPolicy.objects.filter(profile=profile, kind=kind, urgency=urgency, is_current=True).first(),
        reference=True,
    )


def _supervise_at(deadline: datetime, working_days: int, calendar: WorkCalendarLike) -> datetime:
    """督办: 00:00 local of the N-th working day after the deadline's date (N=0: at the deadline)."""
    if working_days <= 0:
        return deadline
    day = add_working_days(deadline, working_days, calendar).astimezone(SHANGHAI).date()
    return datetime.combine(day, datetime.min.time(), tzinfo=SHANGHAI).astimezone(UTC)


def reply_levels(*, start: datetime, reply_due_at: datetime, policy: SlaPolicy, calendar: WorkCalendarLike) -> Levels:
    """催办/督办/通报 moments for a reply deadline, from the policy's offsets. May raise CalendarGap."""
    limit = Limit(policy.reply_amount, LimitUnit(policy.reply_unit))
    warn: datetime | None = None
    if policy.warn_working_days_before > 0 and 0 < policy.warn_fraction < 1:
        warn = reminder_at(
            start,
            reply_due_at,
            limit,
            calendar,
            working_days_before=policy.warn_working_days_before,
            fraction_for_hours=policy.warn_fraction,
        )
    supervise = _supervise_at(reply_due_at, policy.supervise_after_working_days, calendar)
    notice = public_notice_at(supervise, calendar, max(policy.notice_after_working_days, 1))
    return Levels(warn, supervise, notice)


def clocks_compute(
    *,
    policy: SlaPolicy | None,
    start: datetime,
    reply_due_at: datetime | None = None,
    sign_due_at: datetime | None = None,
) -> Clocks:
    """Deadlines and level moments from a policy. Given deadlines (an extension, a pause) are kept.

    A calendar gap anywhere (the deadline itself, or a 督办/通报 moment after it) leaves the
    affected values empty and names the missing year: flagged, never guessed.
    """
    if policy is None:
        return Clocks(sign_due_at, reply_due_at, None)
    calendar = work_calendar()
    gap: int | None = None
    try:
        sign = sign_due_at or compute_deadline(start, Limit(policy.sign_amount, LimitUnit(policy.sign_unit)), calendar)
    except CalendarGap as missing:
        sign, gap = None, missing.year
    try:
        reply = reply_due_at or compute_deadline(
            start, Limit(policy.reply_amount, LimitUnit(policy.reply_unit)), calendar
        )
    except CalendarGap as missing:
        reply, gap = None, gap or missing.year
    levels = Levels()
    if reply is not None:
        try:
            levels = reply_levels(start=start, reply_due_at=reply, policy=policy, calendar=calendar)
        except CalendarGap as missing:
            gap = gap or missing.year
    return Clocks(sign, reply, policy, gap, levels)


def assignment_clocks(*, ticket: Ticket, start: datetime) -> Clocks:
    """签收 and 办结 deadlines of a new assignment. A gap in the calendar is flagged, never guessed."""
    clocks = clocks_compute(policy=policy_for(kind=ticket.kind, urgency=ticket.urgency), start=start)
    if clocks.calendar_gap is not None:
        log.warning("calendar gap: year %s has no working-day data (ticket %s)", clocks.calendar_gap, ticket.number)
    return clocks


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


# --- policy versions ---------------------------------------------------------------------------

POLICY_EDITABLE = frozenset(
    {
        "sign_amount",
        "sign_unit",
        "reply_amount",
        "reply_unit",
        "return_window_days",
        "extension_cap_days",
        "max_extensions",
        "warn_working_days_before",
        "warn_fraction",
        "supervise_after_working_days",
        "notice_after_working_days",
        "pause_allowed",
    }
)


def policy_check(values: dict[str, object]) -> None:
    """The rule every saved policy keeps: `policy_revise` applies it, the admin's form checks it first."""
    for amount in ("sign_amount", "reply_amount"):
        if not isinstance(values[amount], int) or int(values[amount]) <= 0:  # type: ignore[call-overload]
            raise InvalidInput("时限必须是正整数", field=amount, rule="positive")
    for unit in ("sign_unit", "reply_unit"):
        if values[unit] not in LimitUnit.__members__.values():
            raise InvalidInput("时限单位无效", field=unit, rule="enum")
    fraction = float(values["warn_fraction"])  # type: ignore[arg-type]
    if not 0 < fraction < 1:
        raise InvalidInput("小时时限的催办提前比例须在 0 与 1 之间", field="warn_fraction", rule="range")


@transaction.atomic
def policy_revise(*, policy: SlaPolicy, changes: dict[str, object]) -> SlaPolicy:
    """改时限: an edit is a new version row; the old row stays as it was for the assignments
    created under it (each assignment keeps its sla_policy), and applies to new ones only."""
    unknown = set(changes) - POLICY_EDITABLE
    if unknown:
        raise InvalidInput(f"不能修改字段 {sorted(unknown)[0]}", field=sorted(unknown)[0], rule="unknown_field")
    old = SlaPolicy.objects.select_for_update().get(pk=policy.pk)
    if not old.is_current:
        raise TransitionNotAllowed("只能修改当前生效的时限版本", rule="policy_not_current")
    values: dict[str, object] = {name: getattr(old, name) for name in POLICY_EDITABLE}
    values.update(changes)
    policy_check(values)
    if all(getattr(old, name) == value for name, value in values.items()):
        return old
    SlaPolicy.objects.filter(pk=old.pk).update(is_current=False)
    return SlaPolicy.objects.create(
        profile=old.profile, kind=old.kind, urgency=old.urgency, is_current=True, supersedes=old, **values
    )
