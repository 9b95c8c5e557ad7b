"""限时办结: deadline arithmetic on China's statutory working-day calendar.

Pure functions, no Django and no clock: callers pass the receipt time and the calendar,
so the same inputs always give the same deadline (domain.md §5).

Conventions used throughout:

* Every datetime going in must be aware; naive ones are refused with ``ValueError``.
  Every datetime coming out is aware UTC (we store UTC).
* Day boundaries are taken in Asia/Shanghai, never in UTC: a ticket received at 00:30
  Beijing time on a Saturday was received on Saturday even though it is Friday in UTC.
* Hour and minute limits run on the wall clock (absolute elapsed time).
* Day limits count working days starting the day after receipt; the N-th working day
  counts whole, so the deadline is 23:59:59 local on that day.
* Counting that reaches a year with no calendar data raises ``CalendarGap``; we never
  guess that an unknown year follows the plain Monday-to-Friday pattern, because the
  State Council moves weekends around (调休) every year.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

#: The last second of a working day that counts whole (domain.md §5: "23:59:59 local").
END_OF_DAY = time(23, 59, 59)

__all__ = [
    "END_OF_DAY",
    "SHANGHAI",
    "CalendarGap",
    "DayType",
    "Limit",
    "LimitUnit",
    "WorkCalendar",
    "WorkCalendarLike",
    "add_working_days",
    "compute_deadline",
    "is_working",
    "paused_deadline",
    "public_notice_at",
    "reminder_at",
    "subtract_working_days",
    "supervision_at",
    "working_days_between",
]


class DayType(StrEnum):
    """How the statutory calendar classifies one date."""

    WORKDAY = "workday"
    """工作日: an ordinary Monday-to-Friday working day."""
    WEEKEND = "weekend"
    """周末: an ordinary Saturday or Sunday off."""
    HOLIDAY = "holiday"
    """法定节假日: a day off in a public-holiday period, whatever its weekday."""
    MAKEUP_WORKDAY = "makeup_workday"
    """调休上班: a weekend day that is a working day to make up for a holiday."""


def is_working(day_type: DayType) -> bool:
    """True for days on which the clock of a working-day limit runs."""
    return day_type in (DayType.WORKDAY, DayType.MAKEUP_WORKDAY)


class CalendarGap(Exception):
    """The calendar has no data for ``year``; ``missing_date`` is the first date asked for.

    Raised instead of guessing. The caller flags the ticket and alerts the admins, who
    import the State Council's notice for that year (domain.md §5).
    """

    def __init__(self, year: int, missing_date: date) -> None:
        self.year = year
        self.missing_date = missing_date
        super().__init__(
            f"no working-day calendar data for year {year} (first missing date {missing_date.isoformat()})"
        )


class LimitUnit(StrEnum):
    """The unit a time limit (时限) is expressed in."""

    MINUTES = "minutes"
    HOURS = "hours"
    WORKING_DAYS = "working_days"
    """工作日: counted on the statutory calendar, not the wall clock."""


@dataclass(frozen=True)
class Limit:
    """A time limit from the SLA policy table, e.g. ``Limit(5, LimitUnit.WORKING_DAYS)``."""

    amount: int
    unit: LimitUnit

    def __post_init__(self) -> None:
        # bool is an int subclass; Limit(True, ...) is always a bug upstream.
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise TypeError(f"limit amount must be an int, got {self.amount!r}")
        if self.amount <= 0:
            raise ValueError(f"limit amount must be positive, got {self.amount}")
        # Accept the plain string stored in a policy row and normalise it.
        object.__setattr__(self, "unit", LimitUnit(self.unit))

    @property
    def is_wall_clock(self) -> bool:
        """True for minute and hour limits, which ignore the calendar."""
        return self.unit is not LimitUnit.WORKING_DAYS

    def as_timedelta(self) -> timedelta:
        """The elapsed time of a wall-clock limit; refused for working-day limits."""
        if self.unit is LimitUnit.MINUTES:
            return timedelta(minutes=self.amount)
        if self.unit is LimitUnit.HOURS:
            return timedelta(hours=self.amount)
        raise ValueError("a working-day limit has no fixed duration")


@runtime_checkable
class WorkCalendarLike(Protocol):
    """Anything that can classify a date, e.g. a database-backed calendar."""

    def day_type(self, d: date) -> DayType:
        """Classify ``d``; raise ``CalendarGap`` if its year has no data."""
        ...


@dataclass(frozen=True)
class WorkCalendar:
    """An in-memory working-day calendar.

    ``known_years`` are the years whose data is complete. Inside a known year, ``days``
    needs to hold only the exceptions: a date missing from it is a plain workday
    (Monday to Friday) or weekend. Outside the known years every lookup raises
    ``CalendarGap``, even if ``days`` happens to hold some dates of that year, because a
    half-entered year must not look complete.
    """

    days: Mapping[date, DayType] = field(default_factory=dict)
    known_years: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "days", dict(self.days))
        object.__setattr__(self, "known_years", frozenset(self.known_years))

    def day_type(self, d: date) -> DayType:
        """Classify ``d``; raise ``CalendarGap`` for a date in an unknown year."""
        if isinstance(d, datetime):
            raise TypeError("day_type takes a local date, not a datetime")
        if d.year not in self.known_years:
            raise CalendarGap(d.year, d)
        found = self.days.get(d)
        if found is not None:
            return found
        return DayType.WEEKEND if d.weekday() >= 5 else DayType.WORKDAY

    def is_working_day(self, d: date) -> bool:
        """True if a working-day limit's clock runs on ``d``."""
        return is_working(self.day_type(d))

    def with_year(self, year: int, days: Mapping[date, DayType]) -> WorkCalendar:
        """A new calendar with ``year`` replaced by ``days`` (e.g. an imported notice)."""
        stray = [d for d in days if d.year != year]
        if stray:
            raise ValueError(f"date {stray[0].isoformat()} is not in year {year}")
        kept = {d: t for d, t in self.days.items() if d.year != year}
        kept.update(days)
        return WorkCalendar(days=kept, known_years=self.known_years | {year})

    @classmethod
    def from_years(cls, years: Iterable[Mapping[date, DayType]]) -> WorkCalendar:
        """Merge whole-year tables; each table's year becomes known."""
        calendar = cls()
        for table in years:
            if not table:
                raise ValueError("a year table must not be empty")
            year = next(iter(table)).year
            calendar = calendar.with_year(year, table)
        return calendar


# --- helpers -------------------------------------------------------------------------


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")


def _local_date(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def _nth_working_day_after(start: date, n: int, calendar: WorkCalendarLike, *, step: int = 1) -> date:
    """The n-th working day strictly after ``start`` (or before it with ``step=-1``)."""
    if n < 0:
        raise ValueError(f"number of working days must not be negative, got {n}")
    day = start
    remaining = n
    while remaining:
        day += timedelta(days=step)
        # CalendarGap propagates from here: that is what stops an endless search.
        if is_working(calendar.day_type(day)):
            remaining -= 1
    return day


def _shift_working_days(moment: datetime, n: int, calendar: WorkCalendarLike, tz: ZoneInfo, step: int) -> datetime:
    _require_aware("moment", moment)
    local = moment.astimezone(tz)
    day = _nth_working_day_after(local.date(), n, calendar, step=step)
    wall = datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=tz)
    return wall.astimezone(UTC)


# --- public API ----------------------------------------------------------------------


def compute_deadline(
    received_at: datetime,
    limit: Limit,
    calendar: WorkCalendarLike,
    tz: ZoneInfo = SHANGHAI,
) -> datetime:
    """The deadline of a clock started at ``received_at`` (aware UTC).

    时限: minutes and hours are added on the wall clock. Working days are counted from
    the day after the local receipt date; the deadline is 23:59:59 local on the N-th
    working day. Raises ``CalendarGap`` if counting needs a year the calendar lacks.
    """
    _require_aware("received_at", received_at)
    if limit.is_wall_clock:
        return received_at.astimezone(UTC) + limit.as_timedelta()
    last_day = _nth_working_day_after(_local_date(received_at, tz), limit.amount, calendar)
    return datetime.combine(last_day, END_OF_DAY, tzinfo=tz).astimezone(UTC)


def working_days_between(start: date, end: date, calendar: WorkCalendarLike) -> int:
    """Working days d with ``start < d <= end``; negative if ``end`` is before ``start``.

    This is the count ``compute_deadline`` uses: for a working-day deadline,
    ``working_days_between(receipt_date, deadline_date) == limit.amount``.
    Takes local dates; convert datetimes with ``.astimezone(SHANGHAI).date()`` first.
    """
    if isinstance(start, datetime) or isinstance(end, datetime):
        raise TypeError("working_days_between takes local dates, not datetimes")
    if end < start:
        return -working_days_between(end, start, calendar)
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if is_working(calendar.day_type(day)):
            count += 1
    return count


def add_working_days(
    from_moment: datetime,
    n: int,
    calendar: WorkCalendarLike,
    tz: ZoneInfo = SHANGHAI,
) -> datetime:
    """The same local time of day on the n-th working day after ``from_moment``'s date.

    延期: an approved extension of up to 10 working days is
    ``add_working_days(deadline, 10, cal)``, keeping the 23:59:59 end of day.
    """
    return _shift_working_days(from_moment, n, calendar, tz, step=1)


def subtract_working_days(
    deadline: datetime,
    n: int,
    calendar: WorkCalendarLike,
    tz: ZoneInfo = SHANGHAI,
) -> datetime:
    """The same local time of day on the n-th working day before ``deadline``'s date.

    With a 23:59:59 deadline and n=1 this is the end of the previous working day, i.e.
    the moment the last working day begins.
    """
    return _shift_working_days(deadline, n, calendar, tz, step=-1)


def reminder_at(
    received_at: datetime,
    deadline: datetime,
    limit: Limit,
    calendar: WorkCalendarLike,
    *,
    working_days_before: int = 1,
    fraction_for_hours: float = 0.2,
    tz: ZoneInfo = SHANGHAI,
) -> datetime:
    """催办: when the centre warns the unit that its deadline is near (aware UTC).

    Day limits: ``working_days_before`` working days before the deadline. Wall-clock
    limits: ``fraction_for_hours`` of the limit (not of the possibly extended or paused
    span) before the deadline. Never earlier than ``received_at``: for a limit shorter
    than the warning period the reminder is due at once.
    """
    _require_aware("received_at", received_at)
    _require_aware("deadline", deadline)
    if limit.is_wall_clock:
        if not 0 < fraction_for_hours < 1:
            raise ValueError(f"fraction_for_hours must be in (0, 1), got {fraction_for_hours}")
        candidate = deadline - limit.as_timedelta() * fraction_for_hours
        return max(candidate, received_at).astimezone(UTC)
    if working_days_before < 1:
        raise ValueError(f"working_days_before must be positive, got {working_days_before}")
    # Walk back by hand rather than via subtract_working_days so that the walk stops at
    # the receipt date: dates before receipt are irrelevant, and may lie in a year the
    # calendar does not know (a ticket received on 2 January).
    local_deadline = deadline.astimezone(tz)
    received_day = _local_date(received_at, tz)
    day, remaining = local_deadline.date(), working_days_before
    while remaining:
        day -= timedelta(days=1)
        if day < received_day:
            return received_at.astimezone(UTC)
        if is_working(calendar.day_type(day)):
            remaining -= 1
    candidate = datetime.combine(day, local_deadline.timetz().replace(tzinfo=None), tzinfo=tz)
    return max(candidate, received_at).astimezone(UTC)


def supervision_at(deadline: datetime, calendar: WorkCalendarLike, tz: ZoneInfo = SHANGHAI) -> datetime:
    """督办: the start (00:00 local) of the first working day after the deadline's date."""
    next_day = add_working_days(deadline, 1, calendar, tz).astimezone(tz).date()
    return datetime.combine(next_day, time(0, 0), tzinfo=tz).astimezone(UTC)


def public_notice_at(
    supervised_at: datetime,
    calendar: WorkCalendarLike,
    working_days: int = 5,
    tz: ZoneInfo = SHANGHAI,
) -> datetime:
    """通报: ``working_days`` working days after the 督办, if the ticket is still open."""
    return add_working_days(supervised_at, working_days, calendar, tz)


def paused_deadline(original_deadline: datetime, paused_at: datetime, resumed_at: datetime) -> datetime:
    """The deadline after a pause (e.g. 等待群众补充材料, waiting for the citizen).

    The time remaining at the pause is preserved by shifting the deadline by the
    wall-clock length of the pause. This is the simple rule the brief allows: for a
    working-day limit the shifted deadline may land on a holiday or at a time other
    than 23:59:59; a pause that starts at or after the deadline changes nothing,
    because a ticket that is already overdue cannot be rescued by pausing it.
    """
    for name, value in (
        ("original_deadline", original_deadline),
        ("paused_at", paused_at),
        ("resumed_at", resumed_at),
    ):
        _require_aware(name, value)
    if resumed_at < paused_at:
        raise ValueError("resumed_at is before paused_at")
    if paused_at >= original_deadline:
        return original_deadline.astimezone(UTC)
    return (original_deadline + (resumed_at - paused_at)).astimezone(UTC)
