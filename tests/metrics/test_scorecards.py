"""Every §6 metric on a hand-built set of tickets, with the expected values worked out below."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from tests.rating.test_sms_and_web import sms
from tickets.core.actors import Actor
from tickets.core.models import Assignment, Ticket
from tickets.core.services import workflow
from tickets.feedback.models import RatingCallback
from tickets.intake.services import intake
from tickets.metrics.models import UnitDayStats, UnitMonthStats
from tickets.org.models import Unit

START = datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Monday


def _lead(ticket: Ticket) -> Assignment:
    return Assignment.objects.filter(ticket=ticket, role="lead").order_by("-round", "-id").first()  # type: ignore[return-value]


def _file(user: Any, cats: Any, phone: str, **kw: Any) -> Ticket:
    return intake.ticket_create(
        actor=Actor.of(user("operator1")),
        channel="phone",
        text="公司拖欠三个月工资不发，要求协调解决",
        kind="complaint",
        citizen_phone=phone,
        category=cats["tqgz"],
        **kw,
    )


def _sign_reply(user: Any, ticket: Ticket) -> None:
    staff = Actor.of(user("rsj_staff"))
    workflow.assignment_sign(assignment=_lead(ticket), actor=staff)
    workflow.assignment_reply(assignment=_lead(ticket), actor=staff, text="已督促企业发放")


def _accept(user: Any, ticket: Ticket) -> None:
    workflow.ticket_review_reply(ticket=ticket, actor=Actor.of(user("dispatcher1")), accept=True)


def _callback(api: Any, ticket: Ticket, **answers: Any) -> None:
    callback = RatingCallback.objects.get(ticket=ticket, status="open")
    done = api(callback.operator).post(
        f"/api/callbacks/rating/{callback.pk}/record/", {"reached": True, **answers}, format="json"
    )
    assert done.status_code == 200, done.json()


@pytest.fixture
def november(city: Any, cats: Any, user: Any, api: Any, web: Any) -> dict[str, Ticket]:
    """Four tickets handled by 人社局 (rsj) in November 2026:

    T1 signed and replied on time, 回访: contacted, solved, 满意 → closed first time.
    T2 signed 25 h late, replied 10 days late, SMS "2" (基本满意, nothing said about contact or solution:
       a rating, but not a valid callback, so in none of the 三率).
    T3 returned by rsj (approved), dispatched to rsj again, signed and replied on time, 回访: contacted,
       not solved, 不满意 (主观) → closed (not first time: a return), then 重办 by the supervisor (round 2
       dispatched to rsj, still open).
    T4 answered directly at intake (centre).
    """
    with time_machine.travel(START, tick=False) as clock:
        t1 = _file(user, cats, "+8613600136001")
        _sign_reply(user, t1)
        _accept(user, t1)
        clock.shift(timedelta(days=1))
        _callback(api, t1, contacted=True, solved=True, satisfaction="satisfied")

        t2 = _file(user, cats, "+8613600136002")
        clock.shift(timedelta(hours=25))
        workflow.assignment_sign(assignment=_lead(t2), actor=Actor.of(user("rsj_staff")))
        clock.shift(timedelta(days=10))
        workflow.assignment_reply(assignment=_lead(t2), actor=Actor.of(user("rsj_staff")), text="已处理")
        _accept(user, t2)
        sms(web, "SMm2", "2", frm="+8613600136002")

        t3 = _file(user, cats, "+8613600136003")
        workflow.assignment_request_return(
            assignment=_lead(t3), actor=Actor.of(user("rsj_staff")), reason="非本单位职责", legal_basis="三定方案"
        )
        workflow.assignment_decide_return(
            assignment=_lead(t3),
            actor=Actor.of(user("dispatcher1")),
            approve=True,
            reason="同意",
            redispatch_to=Unit.objects.get(code="rsj"),
        )
        _sign_reply(user, t3)
        _accept(user, t3)
        _callback(api, t3, contacted=True, solved=False, satisfaction="dissatisfied", cause="subjective")
        rating = t3.ratings.get()
        decided = api("supervisor1").post(
            f"/api/ratings/{rating.pk}/decide/", {"decision": "reopen", "reason": "单位未解决"}, format="json"
        )
        assert decided.status_code == 200

        t4 = _file(user, cats, "+8613600136004", auto_route=False)
        operator = Actor.of(user("operator1"))  # a 投诉 answered at intake: confirmed on purpose
        workflow.ticket_answer_directly(ticket=t4, actor=operator, answer="已告知政策", confirm_kind=True)
    return {"t1": t1, "t2": t2, "t3": t3, "t4": t4}


def _row(rows: list[dict[str, Any]], code: str) -> dict[str, Any]:
    return next(r for r in rows if r["unit"] == code)


def test_each_metric_matches_the_hand_count(november: Any, api: Any) -> None:
    body = api("supervisor1").get("/api/metrics/units/?period=month&date=2026-11-01&group=departments").json()
    rsj = _row(body["units"], "rsj")
    counts = {
        k: rsj[k]
        for k in (
            "dispatched",
            "signed_on_time",
            "due",
            "replied_on_time",
            "returns_approved",
            "reopened",
            "closed",
            "closed_first_time",
            "valid_callbacks",
            "ratings",
            "led",
            "repeat_calls",
            "contacted",
            "solved",
            "satisfied",
            "basically_satisfied",
            "dissatisfied",
        )
    }
    # dispatched: T1, T2, T3 (returned), T3 again, T3 round 2 = 5; on time signs: T1, T3 again.
    assert counts == {
        "dispatched": 5,
        "signed_on_time": 2,
        "due": 3,
        "replied_on_time": 2,
        "returns_approved": 1,
        "reopened": 1,
        "closed": 3,
        "closed_first_time": 2,
        "valid_callbacks": 2,  # T1 and T3: reached, all three questions answered; T2's lone digit is not
        "ratings": 3,
        "led": 3,  # T1, T2, T3 (T3's re-dispatch and round 2 went to rsj again)
        "repeat_calls": 0,
        "contacted": 2,
        "solved": 1,
        "satisfied": 1,
        "basically_satisfied": 0,
        "dissatisfied": 1,
    }
    assert rsj["sign_on_time_rate"] == 0.4  # 2 / 5
    assert rsj["reply_on_time_rate"] == 0.6667  # 2 / 3
    assert rsj["return_rate"] == 0.2  # 1 / 5
    assert rsj["reopen_rate"] == 0.3333  # 1 / 3
    assert rsj["first_time_rate"] == 0.6667  # 2 / 3
    assert rsj["response_rate"] == 1.0  # contacted 2 / valid 2
    assert rsj["solved_rate"] == 0.5  # 1 / 2
    assert rsj["satisfaction_rate"] == 0.5  # (1 + 0.9 × 0) / 2
    assert rsj["composite"] == 0.55  # 0.1 × 1 + 0.5 × 0.5 + 0.4 × 0.5
    assert rsj["repeat_call_rate"] == 0.0  # 0 repeats / 3 tickets led
    assert body["start"] == "2026-11-01" and body["end"] == "2026-11-30"

    centre = _row(api("supervisor1").get("/api/metrics/units/?period=year&date=2026-05-05").json()["units"], "centre")
    assert (centre["accepted"], centre["answered_directly"]) == (4, 1)
    assert centre["direct_answer_rate"] == 0.25 and centre["repeat_call_rate"] == 0.0

    october = api("supervisor1").get("/api/metrics/units/?period=month&date=2026-10-15&group=departments").json()
    assert _row(october["units"], "rsj")["dispatched"] == 0 and _row(october["units"], "rsj")["composite"] is None


def test_the_first_day_and_week_hold_only_their_own_events(november: Any, api: Any) -> None:
    day = _row(api("supervisor1").get("/api/metrics/units/?period=day&date=2026-11-02").json()["units"], "rsj")
    assert (day["dispatched"], day["signed_on_time"], day["replied_on_time"]) == (1, 1, 1)  # T1 only
    week = api("supervisor1").get("/api/metrics/units/?period=week&date=2026-11-04").json()
    assert (week["start"], week["end"]) == ("2026-11-02", "2026-11-08")
    # Day rows summed over the month equal the month row the month scorecard reads.
    days = api("supervisor1").get("/api/metrics/units/?period=week&date=2026-11-02").json()["units"]
    later = [
        api("supervisor1").get(f"/api/metrics/units/?period=week&date=2026-11-{d:02d}").json()["units"]
        for d in (9, 16, 23, 30)
    ]
    total = _row(days, "rsj")["dispatched"] + sum(_row(w, "rsj")["dispatched"] for w in later)
    month = _row(api("supervisor1").get("/api/metrics/units/?period=month&date=2026-11-02").json()["units"], "rsj")
    assert total == month["dispatched"] == 5


def test_the_rebuild_gives_the_same_rows(november: Any) -> None:
    def snapshot() -> list[list[tuple[Any, ...]]]:
        return [
            sorted(model.objects.values_list(*[f.attname for f in model._meta.fields][1:]))
            for model in (UnitDayStats, UnitMonthStats)
        ]

    before = snapshot()
    assert before[0] and before[1]
    out = io.StringIO()
    call_command("metrics_rebuild", stdout=out)
    assert "unit-day rows" in out.getvalue()
    assert snapshot() == before


def test_unit_staff_read_only_their_own_subtree(november: Any, api: Any) -> None:
    rows = api("rsj_staff").get("/api/metrics/units/?period=month&date=2026-11-01").json()["units"]
    assert [r["unit"] for r in rows] == ["rsj"]
    district = api("donghu_staff").get("/api/metrics/units/?period=month&date=2026-11-01").json()["units"]
    assert {r["unit"] for r in district} and all(r["unit"].startswith("donghu") for r in district)


def test_bad_parameters_are_refused(city: Any, api: Any) -> None:
    assert api("supervisor1").get("/api/metrics/units/?period=decade").status_code == 400
    assert api("supervisor1").get("/api/metrics/units/?group=planets").status_code == 400
    assert api("supervisor1").get("/api/metrics/units/?date=2026-13-01").status_code == 400
    assert api(None).get("/api/metrics/units/").status_code in (401, 403)
