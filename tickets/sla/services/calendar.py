"""The working-day calendar table: seeded from `chinesecalendar`, extended by yearly imports."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from tickets.sla.calendar_source import days_from_chinesecalendar, known_years, parse_year_file
from tickets.sla.deadlines import DayType
from tickets.sla.models import CalendarDay, CalendarYear
from tickets.sla.services import clock, policy


def local_day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, end+1 00:00) in Asia/Shanghai, as aware datetimes."""
    tz = timezone.get_default_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=tz),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
    )


def _year_days(year: int, exceptions: dict[date, DayType], names: dict[date, str] | None = None) -> list[CalendarDay]:
    day, end, rows = date(year, 1, 1), date(year, 12, 31), []
    while day <= end:
        kind = exceptions.get(day) or (DayType.WEEKEND if day.weekday() >= 5 else DayType.WORKDAY)
        rows.append(CalendarDay(date=day, day_type=str(kind), name=(names or {}).get(day, "")))
        day += timedelta(days=1)
    return rows


@dataclass(frozen=True)
class YearStored:
    year: int
    filled: int = 0  # flagged assignments whose deadlines this year filled in
    still_missing: int = 0  # ...that now wait for a later year


@transaction.atomic
def calendar_store_year(
    *, year: int, days: dict[date, DayType], source: str, names: dict[date, str] | None = None
) -> YearStored:
    """Replace one year's rows (each date's type) and mark the year known.

    Deadlines of open or ended assignments are not recomputed (their verdicts are frozen);
    only assignments flagged for want of this year get their deadlines now.
    """
    CalendarDay.objects.filter(date__year=year).delete()
    CalendarDay.objects.bulk_create(_year_days(year, days, names), batch_size=400)
    CalendarYear.objects.update_or_create(year=year, defaults={"source": source})
    policy.calendar_invalidate()
    # Deadlines that waited for this year are filled in now (each with an event).
    filled = clock.calendar_gaps_fill(year=year)
    return YearStored(year, filled.filled, filled.still_missing)


@lru_cache(maxsize=64)
def _package_year(year: int) -> tuple[tuple[date, DayType], ...]:
    """The package's table for a year; computing it is slow and it never changes within a process."""
    return tuple(days_from_chinesecalendar(year).items())


def calendar_seed_from_package(*, years: Iterable[int] | None = None, only_missing: bool = True) -> list[int]:
    """Seed every year `chinesecalendar` knows (or the given ones); returns the years written."""
    have = set(CalendarYear.objects.values_list("year", flat=True)) if only_missing else set()
    written = []
    for year in sorted(years or known_years()):
        if year in have:
            continue
        calendar_store_year(year=year, days=dict(_package_year(year)), source="chinesecalendar")
        written.append(year)
    return written


def calendar_import_file(*, path: str | Path) -> YearStored:
    """Import one year from a State Council notice file (see tickets/sla/data/*.example.toml)."""
    parsed = parse_year_file(path)
    names = {d: n for d, n in parsed.holidays.items()}
    return calendar_store_year(
        year=parsed.year, days=parsed.day_types(), source=f"import:{Path(path).name}", names=names
    )
