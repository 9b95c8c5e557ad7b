"""Calendar data: the chinesecalendar seed and the year-file importer."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from tickets.sla.calendar_source import (
    YearFileError,
    calendar_from_chinesecalendar,
    days_from_chinesecalendar,
    known_years,
    parse_year_file,
)
from tickets.sla.deadlines import CalendarGap, DayType

EXAMPLE_2027 = Path(__file__).parents[2] / "tickets/sla/data/cn-2027.example.toml"


# --- chinesecalendar -----------------------------------------------------------------


def test_the_package_years_are_probed() -> None:
    years = known_years()
    assert {2004, 2025, 2026} <= years
    assert 2003 not in years
    assert years == frozenset(range(min(years), max(years) + 1))


def test_a_year_the_package_lacks_is_a_gap() -> None:
    missing = max(known_years()) + 1
    with pytest.raises(CalendarGap) as info:
        days_from_chinesecalendar(missing)
    assert info.value.year == missing
    assert info.value.missing_date == date(missing, 1, 1)


def test_every_day_of_the_year_is_classified() -> None:
    assert len(days_from_chinesecalendar(2024)) == 366
    assert len(days_from_chinesecalendar(2025)) == 365


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 9, 28), DayType.MAKEUP_WORKDAY),  # Sunday, 调休上班 for 国庆
        (date(2025, 10, 1), DayType.HOLIDAY),  # Wednesday, 国庆
        (date(2025, 10, 4), DayType.HOLIDAY),  # Saturday inside the 国庆 holiday
        (date(2025, 10, 6), DayType.HOLIDAY),  # Monday, 中秋 inside the same week
        (date(2025, 10, 8), DayType.HOLIDAY),  # Wednesday, in lieu of a weekend
        (date(2025, 10, 11), DayType.MAKEUP_WORKDAY),  # Saturday, 调休上班
        (date(2025, 10, 12), DayType.WEEKEND),  # an ordinary Sunday
        (date(2025, 10, 13), DayType.WORKDAY),  # an ordinary Monday
        (date(2026, 1, 4), DayType.MAKEUP_WORKDAY),  # Sunday after 元旦 2026
        (date(2026, 2, 14), DayType.MAKEUP_WORKDAY),  # Saturday before 春节 2026
        (date(2026, 2, 15), DayType.HOLIDAY),  # Sunday, first day of 春节 2026
        (date(2026, 2, 23), DayType.HOLIDAY),  # Monday, last day of 春节 2026
        (date(2026, 2, 28), DayType.MAKEUP_WORKDAY),  # Saturday after 春节 2026
    ],
)
def test_real_days_are_classified_like_the_notice(day: date, expected: DayType) -> None:
    assert days_from_chinesecalendar(day.year)[day] is expected


def test_the_seed_calendar_knows_exactly_the_package_years() -> None:
    cal = calendar_from_chinesecalendar([2025, 2026])
    assert cal.known_years == {2025, 2026}
    assert cal.day_type(date(2025, 10, 11)) is DayType.MAKEUP_WORKDAY
    with pytest.raises(CalendarGap):
        cal.day_type(date(2024, 12, 31))


# --- year files ----------------------------------------------------------------------


def write(tmp_path: Path, text: str, name: str = "year.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(YearFileError) as info:
        parse_year_file(path)
    return info.value.problems


def test_the_example_2027_file_parses() -> None:
    year = parse_year_file(EXAMPLE_2027)
    assert year.year == 2027
    assert year.holidays[date(2027, 1, 1)] == "元旦"
    assert date(2027, 2, 20) in year.makeup_workdays
    table = year.day_types()
    assert len(table) == 365
    assert table[date(2027, 1, 1)] is DayType.HOLIDAY
    assert table[date(2027, 2, 20)] is DayType.MAKEUP_WORKDAY
    assert table[date(2027, 3, 1)] is DayType.WORKDAY
    assert table[date(2027, 3, 6)] is DayType.WEEKEND


def test_the_example_file_says_it_is_an_example() -> None:
    assert "EXAMPLE ONLY" in EXAMPLE_2027.read_text(encoding="utf-8")


def test_a_json_file_and_native_toml_dates_are_accepted(tmp_path: Path) -> None:
    doc = {
        "year": 2030,
        "holidays": [{"name": "元旦", "dates": ["2030-01-01"]}],
        "makeup_workdays": [{"dates": ["2030-01-05"]}],
    }
    from_json = parse_year_file(write(tmp_path, json.dumps(doc, ensure_ascii=False), "y.json"))
    from_toml = parse_year_file(
        write(
            tmp_path,
            'year = 2030\n[[holidays]]\nname = "元旦"\ndates = [2030-01-01]\n'
            "[[makeup_workdays]]\ndates = [2030-01-05]\n",
        )
    )
    assert from_json == from_toml
    assert from_json.holidays == {date(2030, 1, 1): "元旦"}
    assert from_json.makeup_workdays == {date(2030, 1, 5)}


VALID_HEAD = 'year = 2027\n[[holidays]]\nname = "元旦"\ndates = ["2027-01-01"]\n'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (VALID_HEAD + '[[holidays]]\nname = "春节"\ndates = ["2028-02-01"]\n', "not in year 2027"),
        (VALID_HEAD + '[[holidays]]\ndates = ["2027-02-01"]\n', "holidays[2] has no name"),
        (VALID_HEAD + '[[holidays]]\nname = " "\ndates = ["2027-02-01"]\n', "has no name"),
        (
            VALID_HEAD + '[[makeup_workdays]]\ndates = ["2027-01-01"]\n',
            "2027-01-01 is both a make-up working day and a holiday (元旦)",
        ),
        (
            VALID_HEAD + '[[makeup_workdays]]\ndates = ["2027-01-04"]\n',
            "2027-01-04 is a Monday; make-up working days (调休上班) must be Saturdays or Sundays",
        ),
        (
            VALID_HEAD + '[[holidays]]\nname = "又一个"\ndates = ["2027-01-01"]\n',
            "2027-01-01 is already listed under '元旦'",
        ),
        (VALID_HEAD + '[[holidays]]\nname = "春节"\ndates = ["2027/02/01"]\n', "not a date"),
        (VALID_HEAD + '[[holidays]]\nname = "春节"\ndates = []\n', "non-empty list"),
        (VALID_HEAD + 'makeup_workday = ["2027-01-09"]\n', "unknown key 'makeup_workday'"),
        ('year = "2027"\n', "'year' must be an integer"),
        ("year = 2027\n", "no holidays listed"),
        ("year = 2027 [broken", "cannot parse file"),
    ],
)
def test_each_invalid_entry_is_named(tmp_path: Path, text: str, expected: str) -> None:
    problems = problems_of(write(tmp_path, text))
    assert any(expected in p for p in problems), problems


def test_all_problems_are_reported_together(tmp_path: Path) -> None:
    text = 'year = 2027\n[[holidays]]\ndates = ["2026-12-31"]\n[[makeup_workdays]]\ndates = ["2027-01-04"]\n'
    problems = problems_of(write(tmp_path, text))
    assert len(problems) == 3, problems
    with pytest.raises(YearFileError, match="holidays\\[1\\]"):
        parse_year_file(write(tmp_path, text))


def test_an_unknown_file_type_is_refused(tmp_path: Path) -> None:
    assert "use .toml or .json" in problems_of(write(tmp_path, "year: 2027", "y.yaml"))[0]
