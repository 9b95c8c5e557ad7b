"""Deadlines on China's statutory calendar (domain.md §5).

Worked examples use the real 2025/2026 arrangements shipped in ``chinesecalendar``; the
2027 examples use the EXAMPLE year file, since the real 2027 notice may not be out.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tickets.sla.calendar_source import calendar_from_chinesecalendar, parse_year_file
from tickets.sla.deadlines import (
    SHANGHAI,
    CalendarGap,
    DayType,
    Limit,
    LimitUnit,
    WorkCalendar,
    add_working_days,
    compute_deadline,
    is_working,
    paused_deadline,
    public_notice_at,
    reminder_at,
    subtract_working_days,
    supervision_at,
    working_days_between,
)

EXAMPLE_2027 = Path(__file__).parents[2] / "tickets/sla/data/cn-2027.example.toml"

CAL = calendar_from_chinesecalendar()
CAL_WITH_2027 = CAL.with_year(2027, parse_year_file(EXAMPLE_2027).day_types())


def local(y: int, m: int, d: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """A Beijing wall-clock time."""
    return datetime(y, m, d, hour, minute, second, tzinfo=SHANGHAI)


def end_of_day(y: int, m: int, d: int) -> datetime:
    return local(y, m, d, 23, 59, 59).astimezone(UTC)


def days(n: int) -> Limit:
    return Limit(n, LimitUnit.WORKING_DAYS)


# --- basics --------------------------------------------------------------------------


def test_only_workdays_and_makeup_days_are_working() -> None:
    assert is_working(DayType.WORKDAY)
    assert is_working(DayType.MAKEUP_WORKDAY)
    assert not is_working(DayType.WEEKEND)
    assert not is_working(DayType.HOLIDAY)


@pytest.mark.parametrize("amount", [0, -1])
def test_a_limit_must_be_positive(amount: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        Limit(amount, LimitUnit.HOURS)


def test_a_limit_accepts_the_unit_as_stored_text() -> None:
    assert Limit(5, "working_days").unit is LimitUnit.WORKING_DAYS  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Limit(5, "fortnights")  # type: ignore[arg-type]


def test_a_naive_receipt_time_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        compute_deadline(datetime(2025, 9, 30, 10, 0), days(5), CAL)


def test_an_unknown_year_is_a_gap_even_for_an_ordinary_weekday() -> None:
    with pytest.raises(CalendarGap) as info:
        CAL.day_type(date(2027, 3, 3))
    assert info.value.year == 2027
    assert info.value.missing_date == date(2027, 3, 3)


def test_a_known_year_defaults_missing_dates_by_weekday() -> None:
    cal = WorkCalendar(days={date(2030, 1, 1): DayType.HOLIDAY}, known_years=frozenset({2030}))
    assert cal.day_type(date(2030, 1, 1)) is DayType.HOLIDAY
    assert cal.day_type(date(2030, 1, 2)) is DayType.WORKDAY
    assert cal.day_type(date(2030, 1, 5)) is DayType.WEEKEND


# --- worked examples on real data ----------------------------------------------------


def test_five_working_days_across_national_day_2025() -> None:
    # 国庆+中秋 2025: off Oct 1-8; 调休上班 Sun Sep 28 and Sat Oct 11.
    # Counting from Oct 1: Oct 9, Oct 10, Sat Oct 11 (make-up), Oct 13, Oct 14.
    assert CAL.day_type(date(2025, 9, 28)) is DayType.MAKEUP_WORKDAY
    assert CAL.day_type(date(2025, 10, 4)) is DayType.HOLIDAY
    assert CAL.day_type(date(2025, 10, 11)) is DayType.MAKEUP_WORKDAY
    deadline = compute_deadline(local(2025, 9, 30, 10, 0), days(5), CAL)
    assert deadline == end_of_day(2025, 10, 14)
    assert deadline == datetime(2025, 10, 14, 15, 59, 59, tzinfo=UTC)


def test_five_working_days_across_spring_festival_2026() -> None:
    # 春节 2026: off Feb 15-23; 调休上班 Sat Feb 14 and Sat Feb 28.
    # Received Friday Feb 13 evening: Sat Feb 14 (make-up), Feb 24, 25, 26, 27.
    deadline = compute_deadline(local(2026, 2, 13, 21, 30), days(5), CAL)
    assert deadline == end_of_day(2026, 2, 27)


def test_late_friday_in_utc_is_already_saturday_in_beijing() -> None:
    # 17:00 UTC Friday Feb 13 is 01:00 Saturday Feb 14 in Beijing: the make-up
    # Saturday is the receipt day and does not count; the make-up Saturday Feb 28 does.
    received = datetime(2026, 2, 13, 17, 0, tzinfo=UTC)
    assert compute_deadline(received, days(5), CAL) == end_of_day(2026, 2, 28)


def test_ordinary_late_friday_counts_from_monday() -> None:
    received = local(2025, 11, 14, 23, 30)  # Friday
    assert compute_deadline(received, days(3), CAL) == end_of_day(2025, 11, 19)


def test_day_boundary_is_beijing_midnight_not_utc() -> None:
    # Both moments fall on Oct 9 in UTC (15:59 and 16:01), but on different Beijing days.
    before_midnight = local(2025, 10, 9, 23, 59)
    after_midnight = local(2025, 10, 10, 0, 1)
    assert before_midnight.astimezone(UTC).date() == after_midnight.astimezone(UTC).date()
    # From Oct 9: Oct 10, Sat Oct 11 (make-up), Oct 13. From Oct 10: Oct 11, 13, 14.
    assert compute_deadline(before_midnight, days(3), CAL) == end_of_day(2025, 10, 13)
    assert compute_deadline(after_midnight, days(3), CAL) == end_of_day(2025, 10, 14)


def test_received_on_a_holiday_counts_from_the_next_working_day() -> None:
    assert compute_deadline(local(2025, 10, 3, 9, 0), days(1), CAL) == end_of_day(2025, 10, 9)


def test_across_the_year_boundary_with_an_imported_2027_file() -> None:
    # 2026-12-28 is a Monday. Dec 29, 30, 31, then (EXAMPLE) 元旦 Jan 1-3, Jan 4, Jan 5.
    deadline = compute_deadline(local(2026, 12, 28, 15, 0), days(5), CAL_WITH_2027)
    assert deadline == end_of_day(2027, 1, 5)


def test_into_2027_without_data_is_flagged_not_guessed() -> None:
    with pytest.raises(CalendarGap) as info:
        compute_deadline(local(2026, 12, 28, 15, 0), days(5), CAL)
    assert info.value.year == 2027
    assert info.value.missing_date == date(2027, 1, 1)


def test_a_deadline_inside_the_known_year_needs_no_next_year() -> None:
    # Dec 29, 30, 31 are enough: no lookup reaches 2027.
    assert compute_deadline(local(2026, 12, 28, 15, 0), days(3), CAL) == end_of_day(2026, 12, 31)


def test_hour_limits_ignore_holidays() -> None:
    received = local(2025, 10, 1, 8, 0)
    deadline = compute_deadline(received, Limit(24, LimitUnit.HOURS), CAL)
    assert deadline == local(2025, 10, 2, 8, 0)
    assert compute_deadline(received, Limit(30, LimitUnit.MINUTES), CAL) == local(2025, 10, 1, 8, 30)


def test_hour_limits_need_no_calendar_data() -> None:
    received = local(2026, 12, 31, 20, 0)
    assert compute_deadline(received, Limit(24, LimitUnit.HOURS), CAL) == local(2027, 1, 1, 20, 0)


# --- reminders, supervision, extensions, pauses --------------------------------------


def test_reminder_is_one_working_day_before_a_day_deadline() -> None:
    # 催办 for the Oct 14 deadline: end of Mon Oct 13 (the start of the last day).
    received = local(2025, 9, 30, 10, 0)
    deadline = compute_deadline(received, days(5), CAL)
    assert reminder_at(received, deadline, days(5), CAL) == end_of_day(2025, 10, 13)


def test_reminder_skips_back_over_a_holiday() -> None:
    # Deadline Thu Oct 9 2025; the working day before it is Tue Sep 30.
    received = local(2025, 9, 29, 10, 0)
    deadline = compute_deadline(received, days(2), CAL)
    assert deadline == end_of_day(2025, 10, 9)
    assert reminder_at(received, deadline, days(2), CAL) == end_of_day(2025, 9, 30)


def test_reminder_for_an_hour_limit_is_twenty_percent_before() -> None:
    received = local(2025, 10, 1, 8, 0)
    limit = Limit(2, LimitUnit.HOURS)
    deadline = compute_deadline(received, limit, CAL)
    assert reminder_at(received, deadline, limit, CAL) == local(2025, 10, 1, 9, 36)


def test_reminder_is_never_before_receipt() -> None:
    # Received on a Saturday with 1 working day: one working day before Monday's
    # deadline is Friday, before the ticket existed; the reminder is due at once.
    received = local(2025, 11, 15, 10, 0)
    deadline = compute_deadline(received, days(1), CAL)
    assert deadline == end_of_day(2025, 11, 17)
    assert reminder_at(received, deadline, days(1), CAL) == received


def test_supervision_the_next_working_day_and_public_notice_five_later() -> None:
    deadline = end_of_day(2025, 9, 30)
    supervised = supervision_at(deadline, CAL)
    assert supervised == local(2025, 10, 9, 0, 0)  # 督办: first working day after
    # 通报: Oct 10, Sat Oct 11 (make-up), Oct 13, 14, 15.
    assert public_notice_at(supervised, CAL) == local(2025, 10, 15, 0, 0)


def test_extension_keeps_the_end_of_day() -> None:
    # 延期 10 working days from Fri Feb 13 2026 across 春节.
    # Feb 14 (make-up), 24, 25, 26, 27, 28 (make-up), Mar 2, 3, 4, 5.
    extended = add_working_days(end_of_day(2026, 2, 13), 10, CAL)
    assert extended == end_of_day(2026, 3, 5)


def test_subtract_then_add_returns_to_a_working_day_deadline() -> None:
    deadline = end_of_day(2025, 10, 14)
    assert add_working_days(subtract_working_days(deadline, 3, CAL), 3, CAL) == deadline


def test_a_pause_preserves_the_remaining_time() -> None:
    deadline = end_of_day(2025, 10, 14)
    paused, resumed = local(2025, 10, 10, 9, 0), local(2025, 10, 12, 9, 0)
    assert paused_deadline(deadline, paused, resumed) == deadline + timedelta(days=2)


def test_a_pause_after_the_deadline_does_not_rescue_the_ticket() -> None:
    deadline = end_of_day(2025, 10, 14)
    paused, resumed = local(2025, 10, 15, 9, 0), local(2025, 10, 20, 9, 0)
    assert paused_deadline(deadline, paused, resumed) == deadline


def test_a_pause_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError):
        paused_deadline(end_of_day(2025, 10, 14), local(2025, 10, 10), local(2025, 10, 9))


# --- properties ----------------------------------------------------------------------

ZONES = [UTC, SHANGHAI, ZoneInfo("America/New_York"), timezone(timedelta(hours=-12))]

# Receipt times whose day-limit deadlines stay inside the package's data (2004-2026).
received_times = st.builds(
    lambda naive, zone: naive.replace(tzinfo=UTC).astimezone(zone),
    st.datetimes(min_value=datetime(2004, 1, 1, 12), max_value=datetime(2026, 11, 30)),
    st.sampled_from(ZONES),
)
day_limits = st.integers(min_value=1, max_value=15).map(days)


@given(received=received_times, limit=day_limits)
def test_a_day_deadline_is_the_end_of_a_working_day(received: datetime, limit: Limit) -> None:
    deadline = compute_deadline(received, limit, CAL)
    assert deadline.tzinfo is UTC
    local_deadline = deadline.astimezone(SHANGHAI)
    assert local_deadline.time() == datetime.max.time().replace(microsecond=0)
    assert CAL.is_working_day(local_deadline.date())


@given(received=received_times, limit=day_limits)
def test_a_day_deadline_agrees_with_the_calendar_table(received: datetime, limit: Limit) -> None:
    deadline = compute_deadline(received, limit, CAL)
    start, end = received.astimezone(SHANGHAI).date(), deadline.astimezone(SHANGHAI).date()
    assert working_days_between(start, end, CAL) == limit.amount
    # ...and it is the first day to reach that count.
    assert working_days_between(start, end - timedelta(days=1), CAL) == limit.amount - 1


@given(
    first=received_times,
    gap=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)),
    limit=st.one_of(day_limits, st.integers(1, 72).map(lambda h: Limit(h, LimitUnit.HOURS))),
)
def test_a_later_receipt_never_gets_an_earlier_deadline(first: datetime, gap: timedelta, limit: Limit) -> None:
    second = first + gap
    assert compute_deadline(first, limit, CAL) <= compute_deadline(second, limit, CAL)


@given(
    received=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    amount=st.integers(min_value=1, max_value=10_000),
    unit=st.sampled_from([LimitUnit.MINUTES, LimitUnit.HOURS]),
)
def test_hour_limits_are_exact_wall_clock(received: datetime, amount: int, unit: LimitUnit) -> None:
    limit = Limit(amount, unit)
    deadline = compute_deadline(received.astimezone(SHANGHAI), limit, CAL)
    assert deadline.tzinfo is UTC
    assert deadline - received == limit.as_timedelta()


@st.composite
def random_calendars(draw: st.DrawFn) -> WorkCalendar:
    """Arbitrary classifications for 2030, including long runs of days off."""
    start = date(2030, 1, 1)
    kinds = draw(st.lists(st.sampled_from(list(DayType)), min_size=365, max_size=365))
    return WorkCalendar(
        days={start + timedelta(days=i): kind for i, kind in enumerate(kinds)},
        known_years=frozenset({2030}),
    )


@settings(max_examples=50)
@given(
    cal=random_calendars(),
    offset=st.integers(min_value=0, max_value=364 * 24 * 60),
    limit=st.integers(min_value=1, max_value=30).map(days),
)
def test_any_calendar_gives_a_working_day_or_a_gap(cal: WorkCalendar, offset: int, limit: Limit) -> None:
    received = local(2030, 1, 1) + timedelta(minutes=offset)
    try:
        deadline = compute_deadline(received, limit, cal)
    except CalendarGap as gap:
        assert gap.year == 2031
        return
    end = deadline.astimezone(SHANGHAI).date()
    assert cal.is_working_day(end)
    assert working_days_between(received.astimezone(SHANGHAI).date(), end, cal) == limit.amount
    assert reminder_at(received, deadline, limit, cal) >= received
