"""走势: a metric month by month per unit and per group, for the supervisor board's charts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tickets.feedback.models import RatingCallback
from tickets.org.models import Unit

SH = ZoneInfo("Asia/Shanghai")


def _rated(api: Any, ticket_in_rating: Any, when: datetime, phone: str, **answers: Any) -> None:
    with time_machine.travel(when, tick=False) as clock:
        ticket = ticket_in_rating(phone)
        clock.shift(timedelta(hours=23))
        callback = RatingCallback.objects.get(ticket=ticket, status="open")
        done = api(callback.operator).post(
            f"/api/callbacks/rating/{callback.pk}/record/", {"reached": True, **answers}, format="json"
        )
        assert done.status_code == 200, done.json()


@pytest.fixture
def three_months(city: Any, api: Any, ticket_in_rating: Any) -> None:
    """人社局 (rsj, a department): September 满意, contacted, solved → composite 1.0; October nothing;
    November 不满意 (客观), contacted, not solved → 0.1 × 1 + 0.5 × 0 + 0.4 × 0 = 0.1."""
    happy = {"contacted": True, "solved": True, "satisfaction": "satisfied"}
    unhappy = {"contacted": True, "solved": False, "satisfaction": "dissatisfied", "cause": "objective"}
    _rated(api, ticket_in_rating, datetime(2026, 9, 14, 10, tzinfo=SH), "+8613600140001", **happy)
    _rated(api, ticket_in_rating, datetime(2026, 11, 9, 10, tzinfo=SH), "+8613600140002", **unhappy)


def test_a_group_and_its_units_month_by_month(three_months: Any, api: Any) -> None:
    body = api("supervisor1").get("/api/metrics/trends/?group=departments&months=3&end=2026-11").json()
    assert body["months"] == ["2026-09", "2026-10", "2026-11"] and body["metric"] == "composite"
    assert body["group_values"] == [1.0, None, 0.1]  # rsj is the only department with callbacks
    series = {u["unit"]: u["values"] for u in body["units"]}
    assert series["rsj"] == [1.0, None, 0.1]
    departments = set(Unit.objects.filter(kind="department").values_list("code", flat=True))
    assert set(series) == departments
    assert all(values == [None, None, None] for code, values in series.items() if code != "rsj")

    solved = api("supervisor1").get("/api/metrics/trends/?group=departments&months=3&end=2026-11&metric=solved_rate")
    assert solved.json()["group_values"] == [1.0, None, 0.0]
    one = api("supervisor1").get("/api/metrics/trends/?group=departments&months=2&end=2026-11&unit=rsj").json()
    assert one["months"] == ["2026-10", "2026-11"] and [u["unit"] for u in one["units"]] == ["rsj"]
    assert one["units"][0]["values"] == [None, 0.1]


def test_the_months_run_back_across_a_year_end(city: Any, api: Any) -> None:
    body = api("supervisor1").get("/api/metrics/trends/?group=districts&months=4&end=2027-02").json()
    assert body["months"] == ["2026-11", "2026-12", "2027-01", "2027-02"]
    assert body["group_values"] == [None, None, None, None]


def test_unit_staff_see_only_their_own_trend(three_months: Any, api: Any) -> None:
    body = api("rsj_staff").get("/api/metrics/trends/?group=departments&months=3&end=2026-11").json()
    assert [u["unit"] for u in body["units"]] == ["rsj"]
    other = api("rsj_staff").get("/api/metrics/trends/?group=districts&months=3&end=2026-11&unit=donghu")
    assert other.status_code == 400 and other.json()["field"] == "unit"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("months=3", "group"),
        ("group=departments&months=0", "months"),
        ("group=departments&months=37", "months"),
        ("group=departments&months=x", "months"),
        ("group=departments&metric=happiness", "metric"),
        ("group=planets", "group"),
        ("group=departments&end=2026-13", "end"),
        ("group=departments&unit=nope", "unit"),
    ],
)
def test_bad_parameters_name_the_field(city: Any, api: Any, query: str, field: str) -> None:
    response = api("supervisor1").get(f"/api/metrics/trends/?{query}")
    assert response.status_code == 400 and response.json()["field"] == field
