"""Where working-day calendar data comes from.

Two sources feed the admin-editable calendar table (domain.md §5):

* the ``chinesecalendar`` package, which seeds the years it knows, and
* a small human-edited year file (TOML or JSON) typed in from the State Council's
  annual notice (国务院办公厅关于某年部分节假日安排的通知) for a year the package
  does not know yet.

Both produce ``dict[date, DayType]`` covering every day of one year.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import chinese_calendar  # type: ignore[import-untyped]  # ships no type hints

from tickets.sla.deadlines import CalendarGap, DayType, WorkCalendar

__all__ = [
    "YearCalendar",
    "YearFileError",
    "calendar_from_chinesecalendar",
    "days_from_chinesecalendar",
    "known_years",
    "parse_year_data",
    "parse_year_file",
]

# The probe window for known_years(): wide enough for any realistic package release.
_PROBE_FIRST_YEAR = 1990
_PROBE_LAST_YEAR = 2100


def _days_of(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=i) for i in range((date(year + 1, 1, 1) - first).days)]


def _plain_day_type(d: date) -> DayType:
    return DayType.WEEKEND if d.weekday() >= 5 else DayType.WORKDAY


# --- chinesecalendar -----------------------------------------------------------------


def days_from_chinesecalendar(year: int) -> dict[date, DayType]:
    """Every day of ``year`` classified from the ``chinesecalendar`` package.

    The package answers ``(is_holiday, name)``; ``name`` is set for days that belong to
    a holiday arrangement. Mapping:

    * off, with a name -> HOLIDAY, also when the day is a Saturday or Sunday inside the
      holiday period (e.g. 2025-10-04, a Saturday in the National Day week);
    * working, with a name, on a weekend -> MAKEUP_WORKDAY (调休上班);
    * otherwise by weekday -> WORKDAY or WEEKEND.

    Raises ``CalendarGap`` for a year the package has no data for (it raises
    ``NotImplementedError`` itself).
    """
    result: dict[date, DayType] = {}
    for d in _days_of(year):
        try:
            off, name = chinese_calendar.get_holiday_detail(d)
            working = chinese_calendar.is_workday(d)
        except NotImplementedError as exc:
            raise CalendarGap(year, d) from exc
        if working == off:  # the package's two answers must agree
            raise RuntimeError(f"chinesecalendar is inconsistent about {d.isoformat()}")
        weekend = d.weekday() >= 5
        if not working and name is not None:
            result[d] = DayType.HOLIDAY
        elif working and weekend:
            result[d] = DayType.MAKEUP_WORKDAY
        elif not working and not weekend:
            # A weekday off without a holiday name: never seen in the data, but it is
            # still a day off, and a holiday is the only kind of weekday off there is.
            result[d] = DayType.HOLIDAY
        else:
            result[d] = _plain_day_type(d)
    return result


def _package_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 7, 1))
    except NotImplementedError:
        return False
    return True


@cache
def known_years() -> frozenset[int]:
    """The years the installed ``chinesecalendar`` has data for (probed, not hard-coded).

    In 2026 the package (1.11.0) knows 2004-2026; a newer release adds years.
    """
    return frozenset(y for y in range(_PROBE_FIRST_YEAR, _PROBE_LAST_YEAR + 1) if _package_knows(y))


def calendar_from_chinesecalendar(years: Iterable[int] | None = None) -> WorkCalendar:
    """A ``WorkCalendar`` for ``years`` (default: every year the package knows)."""
    chosen = sorted(known_years() if years is None else years)
    return WorkCalendar.from_years(days_from_chinesecalendar(y) for y in chosen)


# --- year files from the State Council notice ---------------------------------------


class YearFileError(ValueError):
    """A year file is invalid; ``problems`` lists every bad entry found, not just the first."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        listed = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid calendar year file {source}:\n{listed}")


@dataclass(frozen=True)
class YearCalendar:
    """One year of the statutory calendar as announced, before it enters the database."""

    year: int
    holidays: Mapping[date, str]
    """法定节假日: each day off and the name of its holiday (e.g. "春节")."""
    makeup_workdays: frozenset[date]
    """调休上班: weekend days that are working days."""

    def day_types(self) -> dict[date, DayType]:
        """Every day of the year: holidays, make-up days, else by weekday."""
        result = {d: _plain_day_type(d) for d in _days_of(self.year)}
        for d in self.holidays:
            result[d] = DayType.HOLIDAY
        for d in self.makeup_workdays:
            result[d] = DayType.MAKEUP_WORKDAY
        return result


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TOP_LEVEL_KEYS = {"year", "holidays", "makeup_workdays"}
_HOLIDAY_KEYS = {"name", "dates"}
_MAKEUP_KEYS = {"name", "dates"}


def parse_year_file(path: str | Path) -> YearCalendar:
    """Read and validate a ``.toml`` or ``.json`` year file (see cn-2027.example.toml)."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            with path.open("rb") as fh:
                data: Any = tomllib.load(fh)
        elif suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
        else:
            raise YearFileError(str(path), [f"unsupported file type {suffix!r}; use .toml or .json"])
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise YearFileError(str(path), [f"cannot parse file: {exc}"]) from exc
    return parse_year_data(data, source=str(path))


def parse_year_data(data: object, *, source: str = "<data>") -> YearCalendar:
    """Validate an already-loaded year document (the dict a TOML or JSON file holds).

    Rules: ``year`` is an integer; every date is inside that year; every holiday entry
    has a non-empty ``name``; make-up working days are Saturdays or Sundays; no date is
    listed twice or both as a holiday and a make-up day. All problems are collected
    and raised together as ``YearFileError``.
    """
    problems: list[str] = []
    if not isinstance(data, dict):
        raise YearFileError(source, ["the file must hold a table/object at the top level"])

    for key in sorted(set(data) - _TOP_LEVEL_KEYS):
        problems.append(f"unknown key {key!r} (expected year, holidays, makeup_workdays)")

    year = data.get("year")
    if isinstance(year, bool) or not isinstance(year, int):
        problems.append(f"'year' must be an integer, got {year!r}")
        raise YearFileError(source, problems)
    if not 1949 <= year <= 2200:
        problems.append(f"'year' {year} is out of range")
        raise YearFileError(source, problems)

    holidays: dict[date, str] = {}
    holiday_entries = _entries(data, "holidays", problems)
    if not holiday_entries:
        problems.append("no holidays listed: a year always has statutory holidays")
    for i, entry in enumerate(holiday_entries, start=1):
        label = f"holidays[{i}]"
        if not isinstance(entry, dict):
            problems.append(f"{label} must be a table with name and dates")
            continue
        _unknown_keys(entry, _HOLIDAY_KEYS, label, problems)
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(f'{label} has no name (e.g. name = "春节")')
            name = "?"
        label = f"holidays[{i}] ({name.strip()})"
        for d in _dates(entry, year, label, problems):
            if d in holidays:
                problems.append(f"{label}: {d.isoformat()} is already listed under {holidays[d]!r}")
            else:
                holidays[d] = name.strip()

    makeup: set[date] = set()
    for i, entry in enumerate(_entries(data, "makeup_workdays", problems), start=1):
        label = f"makeup_workdays[{i}]"
        if not isinstance(entry, dict):
            problems.append(f"{label} must be a table with dates")
            continue
        _unknown_keys(entry, _MAKEUP_KEYS, label, problems)
        if "name" in entry and not isinstance(entry["name"], str):
            problems.append(f"{label}: name must be text")
        for d in _dates(entry, year, label, problems):
            if d in makeup:
                problems.append(f"{label}: {d.isoformat()} is listed twice as a make-up day")
            elif d in holidays:
                problems.append(f"{label}: {d.isoformat()} is both a make-up working day and a holiday ({holidays[d]})")
            elif d.weekday() < 5:
                problems.append(
                    f"{label}: {d.isoformat()} is a {d.strftime('%A')}; make-up working "
                    "days (调休上班) must be Saturdays or Sundays"
                )
            else:
                makeup.add(d)

    if problems:
        raise YearFileError(source, problems)
    return YearCalendar(year=year, holidays=holidays, makeup_workdays=frozenset(makeup))


def _entries(data: dict[str, Any], key: str, problems: list[str]) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        problems.append(f"{key!r} must be a list of tables ([[{key}]] in TOML)")
        return []
    return value


def _unknown_keys(entry: dict[str, Any], allowed: set[str], label: str, problems: list[str]) -> None:
    for key in sorted(set(entry) - allowed):
        problems.append(f"{label}: unknown key {key!r}")


def _dates(entry: dict[str, Any], year: int, label: str, problems: list[str]) -> list[date]:
    raw = entry.get("dates")
    if not isinstance(raw, list) or not raw:
        problems.append(f"{label}: 'dates' must be a non-empty list of YYYY-MM-DD dates")
        return []
    found: list[date] = []
    for item in raw:
        # TOML may hold a native date (dates = [2027-01-01]); JSON holds strings.
        if type(item) is date:
            d = item
        elif isinstance(item, str):
            try:
                if not _ISO_DATE.fullmatch(item.strip()):
                    raise ValueError(item)
                d = date.fromisoformat(item.strip())
            except ValueError:
                problems.append(f"{label}: {item!r} is not a date (use YYYY-MM-DD)")
                continue
        else:
            problems.append(f"{label}: {item!r} is not a date (use YYYY-MM-DD)")
            continue
        if d.year != year:
            problems.append(f"{label}: {d.isoformat()} is not in year {year}")
            continue
        found.append(d)
    return found
