"""Dates and times from outside (query parameters, JSON, forms, Open311): one range, one set of parsers.

`0001-01-01` and `9999-12-31` are valid ISO dates, and every period computed around them (the week
before, the month after, the same span a year earlier, the day in UTC) leaves Python's calendar:
OverflowError or "year 0 is out of range", HTTP 500, in metrics, hot spots, exports, filters and
Open311. A hotline's records start this century, so input outside 2000–2099 is refused here with
a 400 naming the field, before any arithmetic runs. Every door calls these functions: the API's
fields (`tickets/core/apis/base.py`), the list filters, Open311 and the staff pages.
"""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tickets.errors import InvalidInput

YEAR_MIN = 2000
YEAR_MAX = 2099
RANGE_TEXT = f"{YEAR_MIN}-01-01 至 {YEAR_MAX}-12-31"


def _out_of_range(field: str) -> InvalidInput:
    return InvalidInput(f"日期超出支持范围（{RANGE_TEXT}）", field=field, rule="date_range")


def day_checked(value: date, *, field: str) -> date:
    """A date (or the date of a datetime) within the supported years."""
    if not YEAR_MIN <= value.year <= YEAR_MAX:
        raise _out_of_range(field)
    return value


def moment_checked(value: datetime, *, field: str) -> datetime:
    """An aware datetime within the supported years; a naive one is read in the local time zone.

    The year is checked before any time zone arithmetic: shifting 0001-01-01 by +08:00 is itself
    the overflow this guards against."""
    day_checked(value, field=field)
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _calendar_parse(raw: str, *, shape: str, example: str, field: str) -> date:
    try:
        value = datetime.strptime(raw, shape).date()
    except ValueError:
        raise InvalidInput(f"格式应为 {example}", field=field, rule="date") from None
    return day_checked(value, field=field)


def day_parse(raw: str, *, field: str) -> date:
    """YYYY-MM-DD."""
    return _calendar_parse(raw, shape="%Y-%m-%d", example="YYYY-MM-DD", field=field)


def month_parse(raw: str, *, field: str) -> date:
    """YYYY-MM → the first day of that month."""
    return _calendar_parse(raw, shape="%Y-%m", example="YYYY-MM", field=field)


def moment_parse(raw: str, *, field: str, require_zone: bool = False) -> datetime:
    """ISO 8601 date and time (2025-01-01T08:00:00+08:00); naive values are local unless refused."""
    try:
        value = parse_datetime(raw)
    except ValueError:  # well formed but impossible: 2025-13-45T…
        value = None
    if value is None:
        raise InvalidInput("时间格式应为 ISO 8601，例如 2025-01-01T08:00:00+08:00", field=field, rule="datetime")
    if require_zone and timezone.is_naive(value):
        raise InvalidInput("时间须带时区，例如 2025-01-01T00:00:00Z", field=field, rule="datetime")
    return moment_checked(value, field=field)
