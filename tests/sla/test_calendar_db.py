"""The database calendar (what deadlines are computed with) agrees with the package data it was
seeded from, day by day and deadline by deadline, and stays silent about unknown years."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tickets.sla.calendar_source import calendar_from_chinesecalendar
from tickets.sla.deadlines import SHANGHAI, CalendarGap, Limit, LimitUnit, compute_deadline, working_days_between
from tickets.sla.services import policy

PACKAGE = calendar_from_chinesecalendar([2025, 2026])
SLOW_FIXTURES = settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)


@SLOW_FIXTURES
@given(day=st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 31)))
def test_every_day_of_the_table_matches_the_package(calendar: None, day: date) -> None:
    assert policy.work_calendar().day_type(day) == PACKAGE.day_type(day)


@SLOW_FIXTURES
@given(
    received=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 11, 20), timezones=st.just(UTC)),
    amount=st.integers(min_value=1, max_value=15),
    later=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10)),
)
def test_db_deadlines_agree_with_the_table_and_never_go_backwards(
    calendar: None, received: datetime, amount: int, later: timedelta
) -> None:
    db = policy.work_calendar()
    limit = Limit(amount, LimitUnit.WORKING_DAYS)
    deadline = compute_deadline(received, limit, db)
    assert deadline == compute_deadline(received, limit, PACKAGE)
    last_day = deadline.astimezone(SHANGHAI).date()
    assert db.is_working_day(last_day)  # never ends on a day off
    assert working_days_between(received.astimezone(SHANGHAI).date(), last_day, db) == amount
    assert compute_deadline(received + later, limit, db) >= deadline


def test_the_table_refuses_a_year_it_does_not_hold(calendar: None) -> None:
    with pytest.raises(CalendarGap):
        policy.work_calendar().day_type(date(2027, 3, 1))
