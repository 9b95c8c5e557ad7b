"""并单: once the master's reply is accepted, every merged child's citizen is asked to rate their own ticket,
can rate it (SMS, web, 回访), and those ratings count for the unit that handled the master."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

from tests.rating.test_sms_and_web import sms
from tests.tickets.helpers import lead_of, staff
from tickets.core.actors import Actor
from tickets.core.models import Ticket
from tickets.core.services import workflow
from tickets.feedback.models import Rating, RatingCallback, RatingRequest
from tickets.feedback.services import rating
from tickets.intake.services import intake
from tickets.messaging.models import SmsMessage
from tickets.org.models import Unit, User

SH = ZoneInfo("Asia/Shanghai")
WATER = "东湖区新华街道光明小区3栋从昨天早上开始停水，到现在还没有来水，请尽快处理。"


def _dispatcher() -> Actor:
    return Actor.of(User.objects.get(username="dispatcher1"))


def _file(phone: str, channel: str = "phone") -> Ticket:
    return intake.ticket_create(
        actor=Actor.of(User.objects.get(username="operator1")),
        channel=channel,
        text=WATER,
        citizen_phone=phone,
        auto_route=False,
    )


def _handle_and_accept(master: Ticket, unit: Unit) -> Ticket:
    master = workflow.ticket_dispatch(ticket=master, actor=_dispatcher(), lead_unit=unit)
    unit_actor = Actor.of(staff(unit))
    workflow.assignment_sign(assignment=lead_of(master), actor=unit_actor)
    workflow.assignment_reply(assignment=lead_of(master), actor=unit_actor, text="已抢修管道，恢复供水")
    workflow.ticket_review_reply(ticket=master, actor=_dispatcher(), accept=True)
    return Ticket.objects.get(pk=master.pk)


def _month(api: Any, code: str) -> dict[str, Any]:
    rows = api("supervisor1").get("/api/metrics/units/?period=month&date=2026-11-01").json()["units"]
    return next(r for r in rows if r["unit"] == code)


def test_every_child_citizen_is_asked_and_can_rate_and_the_ratings_count_for_the_masters_unit(
    city: Any, units: Any, web: Any, api: Any
) -> None:
    """Master M (phone) and children C1 (SMS channel), C2 (web), C3 (phone), handled by 水务集团 (swjt).

    M: 回访 reached — contacted, solved, 满意.   C1: SMS "1", then "11" (contacted, solved).
    C2: web page — 基本满意, contacted, not solved.   C3: 回访 reached — contacted, solved, 满意.
    swjt: ratings 4, valid 4, contacted 4, solved 3, 满意 3, 基本满意 1 →
    响应率 1.0; 解决率 3/4 = 0.75; 满意率 (3 + 0.9) / 4 = 0.975;
    composite 0.1 × 1 + 0.5 × 0.75 + 0.4 × 0.975 = 0.865.
    """
    with time_machine.travel(datetime(2026, 11, 16, 10, tzinfo=SH), tick=False) as clock:
        master = _file("+8613600139000")
        children = [_file("+8613600139001", "sms"), _file("+8613600139002", "web"), _file("+8613600139003")]
        for child in children:
            workflow.ticket_merge(ticket=child, master=master, actor=_dispatcher(), reason="同一小区停水")
        master = _handle_and_accept(master, units["swjt"])
        assert master.state == "rating"

        for child in children:  # each citizen: an open request for their own ticket and an SMS with its link
            child.refresh_from_db()
            assert child.state == "merged" and rating.can_rate(child)
            assert RatingRequest.objects.get(ticket=child).state == "open"
            ask = SmsMessage.objects.get(ticket=child, purpose="rating_request")
            assert ask.to_phone == child.citizen_phone and master.number in ask.body and child.number in ask.body
        assert RatingCallback.objects.filter(ticket__in=[master, children[2]], status="open").count() == 2

        clock.shift(timedelta(days=1))
        for ticket in (master, children[2]):
            callback = RatingCallback.objects.get(ticket=ticket, status="open")
            body = {"reached": True, "contacted": True, "solved": True, "satisfaction": "satisfied"}
            done = api(callback.operator).post(f"/api/callbacks/rating/{callback.pk}/record/", body, format="json")
            assert done.status_code == 200, done.json()
        sms(web, "SMc1", "1", frm="+8613600139001")
        sms(web, "SMc2", "11", frm="+8613600139001")
        link = rating.rating_link(children[1]).removeprefix("https://12345.example.cn")
        page = web.post(link, {"satisfaction": "basic", "solved": "no", "contacted": "yes", "comment": ""})
        assert page.status_code == 200 and "感谢评价" in page.content.decode()

    for child in children:
        child.refresh_from_db()
        assert child.state == "merged" and not rating.can_rate(child)
        assert Rating.objects.get(ticket=child).unit == units["swjt"]
    assert Ticket.objects.get(pk=master.pk).state == "closed"
    swjt = _month(api, "swjt")
    assert {k: swjt[k] for k in ("ratings", "valid_callbacks", "contacted", "solved", "satisfied")} == {
        "ratings": 4,
        "valid_callbacks": 4,
        "contacted": 4,
        "solved": 3,
        "satisfied": 3,
    }
    assert swjt["basically_satisfied"] == 1
    assert (swjt["response_rate"], swjt["solved_rate"], swjt["satisfaction_rate"], swjt["composite"]) == (
        1.0,
        0.75,
        0.975,
        0.865,
    )


def test_a_child_merged_after_acceptance_is_asked_at_once_and_a_second_rating_is_refused(
    city: Any, units: Any, web: Any
) -> None:
    master = _handle_and_accept(_file("+8613600139010"), units["swjt"])
    late = _file("+8613600139011", "web")
    workflow.ticket_merge(ticket=late, master=master, actor=_dispatcher(), reason="同一小区停水")
    assert RatingRequest.objects.get(ticket=late).state == "open"
    link = rating.rating_link(late).removeprefix("https://12345.example.cn")
    assert web.post(link, {"satisfaction": "satisfied", "solved": "yes", "contacted": "yes"}).status_code == 200
    again = web.post(link, {"satisfaction": "dissatisfied", "solved": "no", "contacted": "no", "comment": "x"})
    assert "已评价" in again.content.decode()
    assert Rating.objects.filter(ticket=late).count() == 1


def test_a_childs_dissatisfaction_sends_the_master_back_to_its_unit(city: Any, units: Any, web: Any, api: Any) -> None:
    master = _file("+8613600139020")
    child = _file("+8613600139021", "sms")
    workflow.ticket_merge(ticket=child, master=master, actor=_dispatcher(), reason="同一小区停水")
    master = _handle_and_accept(master, units["swjt"])
    sms(web, "SMc3", "3 我家还是没有水", frm="+8613600139021")
    rated = Rating.objects.get(ticket=child)
    assert (rated.cause, rated.review) == ("undetermined", "pending")
    decided = api("supervisor1").post(
        f"/api/ratings/{rated.pk}/decide/",
        {"decision": "reopen", "reason": "供水未恢复", "cause": "subjective"},
        format="json",
    )
    assert decided.status_code == 200, decided.json()
    master.refresh_from_db()
    assert master.state == "in_progress" and master.reopen_count == 1
    reopen = master.events.get(action="reopen")
    assert child.number in reopen.reason and "我家还是没有水" in reopen.reason


def test_an_unanswered_child_request_expires_without_touching_the_child(city: Any, units: Any) -> None:
    with time_machine.travel(datetime(2026, 11, 16, 10, tzinfo=SH), tick=False) as clock:
        master = _file("+8613600139030")
        child = _file("+8613600139031", "sms")
        workflow.ticket_merge(ticket=child, master=master, actor=_dispatcher(), reason="同一小区停水")
        _handle_and_accept(master, units["swjt"])
        clock.shift(timedelta(days=8))
        rating.rating_expire_due()
    assert RatingRequest.objects.get(ticket=child).state == "expired"
    child.refresh_from_db()
    assert child.state == "merged" and not rating.can_rate(child)
    assert Ticket.objects.get(pk=master.pk).outcome == "unrated"


def test_a_child_unmerged_after_being_asked_is_asked_afresh_when_its_own_reply_is_accepted(
    city: Any, units: Any, web: Any
) -> None:
    with time_machine.travel(datetime(2026, 11, 16, 10, tzinfo=SH), tick=False) as clock:
        master = _file("+8613600139040")
        child = _file("+8613600139041", "sms")
        workflow.ticket_merge(ticket=child, master=master, actor=_dispatcher(), reason="同一小区停水")
        _handle_and_accept(master, units["swjt"])
        workflow.ticket_unmerge(ticket=child, actor=_dispatcher(), reason="并非同一栋楼")
        child.refresh_from_db()
        assert child.state == "registered" and not rating.can_rate(child)
        assert "感谢您的评价" not in sms(web, "SMc5", "1", frm="+8613600139041").content.decode()
        clock.shift(timedelta(days=9))  # the old request would have expired by now
        rating.rating_expire_due()
        child = _handle_and_accept(Ticket.objects.get(pk=child.pk), units["swjt"])
        request = RatingRequest.objects.get(ticket=child)
        assert request.state == "open" and request.expires_at > datetime(2026, 11, 25, 10, tzinfo=SH)
        assert "感谢您的评价" in sms(web, "SMc6", "2", frm="+8613600139041").content.decode()
    assert Ticket.objects.get(pk=child.pk).state == "closed"
