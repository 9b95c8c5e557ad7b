"""按时办结 counts overdue assignments; the 三率 count only valid callbacks; 重复来电 goes to the right units.

Every expected value is worked out by hand in the docstrings and comments below.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

from tests.metrics.test_scorecards import _accept, _file, _lead, _row
from tests.rating.test_sms_and_web import sms
from tickets.core.actors import Actor
from tickets.core.models import Ticket, TicketEvent
from tickets.core.services import workflow
from tickets.metrics.models import UnitDayStats, UnitMonthStats
from tickets.metrics.services import scorecards
from tickets.supervision.services import scanner

SH = ZoneInfo("Asia/Shanghai")


def _at(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, 0, tzinfo=SH)


def _month(api: Any, month: str, code: str = "rsj") -> dict[str, Any]:
    body = api("supervisor1").get(f"/api/metrics/units/?period=month&date={month}-01").json()
    return _row(body["units"], code)


def _snapshot() -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for model in (UnitDayStats, UnitMonthStats):
        names = [f.attname for f in model._meta.fields if f.attname != "id"]
        rows += [(model.__name__, *row) for row in model.objects.values_list(*names)]
    return sorted(rows)


def _staff(user: Any) -> Actor:
    return Actor.of(user("rsj_staff"))


def test_an_assignment_unreplied_past_its_deadline_is_due_and_late_in_its_deadline_month(
    city: Any, cats: Any, user: Any, api: Any
) -> None:
    """A: filed Mon 23 Nov 2026 10:00 (投诉, 一般: 5 working days from Tue 24 → deadline Mon 30 Nov 23:59:59),
    signed, never replied in November. 督办 is due 00:00 on the next working day (Tue 1 Dec); the
    scanner runs Wed 2 Dec. The unit replies (late) on Thu 3 Dec.
    B: filed the same moment, replied on time on Wed 25 Nov.

    November: due = A (deadline month) + B = 2, on time = B = 1 → 按时办结率 0.5.
    December: A's late reply adds nothing (it was counted when its deadline passed) → due 0.
    """
    with time_machine.travel(_at(2026, 11, 23), tick=False) as clock:
        a = _file(user, cats, "+8613600137001")
        b = _file(user, cats, "+8613600137002")
        assert _lead(a).reply_due_at == datetime(2026, 11, 30, 23, 59, 59, tzinfo=SH).astimezone(UTC)
        workflow.assignment_sign(assignment=_lead(a), actor=_staff(user))
        workflow.assignment_sign(assignment=_lead(b), actor=_staff(user))
        clock.move_to(_at(2026, 11, 25))
        workflow.assignment_reply(assignment=_lead(b), actor=_staff(user), text="已处理")
        clock.move_to(_at(2026, 11, 30, 23))
        assert scanner.deadlines_scan().fired["supervise"] == 0  # not yet past the deadline
        assert (_month(api, "2026-11")["due"], _month(api, "2026-11")["replied_on_time"]) == (1, 1)
        clock.move_to(_at(2026, 12, 2))
        assert scanner.deadlines_scan().fired["supervise"] == 1
        november = _month(api, "2026-11")
        assert (november["due"], november["replied_on_time"], november["reply_on_time_rate"]) == (2, 1, 0.5)
        assert _month(api, "2026-12")["due"] == 0
        clock.move_to(_at(2026, 12, 3))
        workflow.assignment_reply(assignment=_lead(a), actor=_staff(user), text="已处理（逾期）")
        assert (_month(api, "2026-11")["due"], _month(api, "2026-12")["due"]) == (2, 0)
        assert scanner.deadlines_scan().total == 0  # replied: nothing more fires, nothing more counts
    kept = _snapshot()
    scorecards.metrics_rebuild()
    assert _snapshot() == kept


def test_an_extension_granted_after_the_supervision_moves_the_count_to_the_new_deadline(
    city: Any, cats: Any, user: Any, api: Any
) -> None:
    """Filed Mon 23 Nov, deadline Mon 30 Nov. The unit asks on Fri 27 Nov for an extension to Fri 11 Dec;
    the centre grants it only on Wed 2 Dec, after the 督办 of 2 Dec counted the assignment due and late
    in November. The deadline moved, so that count is withdrawn (November due 0); the reply on Fri 4 Dec
    meets the new deadline: December due 1, on time 1.
    """
    with time_machine.travel(_at(2026, 11, 23), tick=False) as clock:
        t = _file(user, cats, "+8613600137003")
        workflow.assignment_sign(assignment=_lead(t), actor=_staff(user))
        clock.move_to(_at(2026, 11, 27))
        workflow.assignment_request_extension(
            assignment=_lead(t), actor=_staff(user), until=_at(2026, 12, 11, 18), reason="需现场核查"
        )
        clock.move_to(_at(2026, 12, 2))
        assert scanner.deadlines_scan().fired["supervise"] == 1
        assert _month(api, "2026-11")["due"] == 1
        workflow.assignment_decide_extension(
            assignment=_lead(t), actor=Actor.of(user("dispatcher1")), approve=True, reason="同意"
        )
        assert _month(api, "2026-11")["due"] == 0
        clock.move_to(_at(2026, 12, 4))
        workflow.assignment_reply(assignment=_lead(t), actor=_staff(user), text="已处理")
        december = _month(api, "2026-12")
        assert (december["due"], december["replied_on_time"], december["reply_on_time_rate"]) == (1, 1, 1.0)
    kept = _snapshot()
    scorecards.metrics_rebuild()
    assert _snapshot() == kept


def test_a_reply_sent_back_is_judged_on_the_reply_that_counts(city: Any, cats: Any, user: Any, api: Any) -> None:
    """Filed Mon 23 Nov (deadline Mon 30 Nov). Replied on time Tue 24 Nov, sent back by the centre the same
    day, replied again on Tue 1 Dec (late; before any scan). The first reply no longer counts:
    November due 0, December due 1 and on time 0 → 按时办结率 0.0 in December.
    """
    with time_machine.travel(_at(2026, 11, 23), tick=False) as clock:
        t = _file(user, cats, "+8613600137004")
        workflow.assignment_sign(assignment=_lead(t), actor=_staff(user))
        clock.move_to(_at(2026, 11, 24))
        workflow.assignment_reply(assignment=_lead(t), actor=_staff(user), text="已处理")
        assert (_month(api, "2026-11")["due"], _month(api, "2026-11")["replied_on_time"]) == (1, 1)
        workflow.ticket_review_reply(
            ticket=Ticket.objects.get(pk=t.pk), actor=Actor.of(user("dispatcher1")), accept=False, reason="答非所问"
        )
        assert (_month(api, "2026-11")["due"], _month(api, "2026-11")["replied_on_time"]) == (0, 0)
        clock.move_to(_at(2026, 12, 1))
        workflow.assignment_reply(assignment=_lead(t), actor=_staff(user), text="已重新处理")
    december = _month(api, "2026-12")
    assert (december["due"], december["replied_on_time"], december["reply_on_time_rate"]) == (1, 0, 0.0)
    kept = _snapshot()
    scorecards.metrics_rebuild()
    assert _snapshot() == kept


def test_only_complete_answers_are_valid_callbacks(city: Any, cats: Any, user: Any, api: Any, web: Any) -> None:
    """Three tickets of rsj rated in November:
    T1 SMS "1" only (满意, contact and solution unknown) → a rating, not a valid callback;
    T2 SMS "2", then "12" (contacted, not solved) → valid: 基本满意, contacted;
    T3 回访 not reached (no rating), then the citizen rates on the web page: 不满意, contacted, solved,
       with a reason → valid.

    ratings 3, valid 2 (T2, T3), contacted 2, solved 1 (T3), 基本满意 1, 不满意 1:
    响应率 2/2 = 1.0; 解决率 1/2 = 0.5; 满意率 (0 + 0.9 × 1) / 2 = 0.45;
    composite 0.1 × 1.0 + 0.5 × 0.5 + 0.4 × 0.45 = 0.53.
    """
    from tickets.feedback.models import RatingCallback
    from tickets.feedback.services import rating

    with time_machine.travel(_at(2026, 11, 9), tick=False):
        tickets = []
        for i in (1, 2, 3):
            t = _file(user, cats, f"+861360013710{i}")
            workflow.assignment_sign(assignment=_lead(t), actor=_staff(user))
            workflow.assignment_reply(assignment=_lead(t), actor=_staff(user), text="已处理")
            _accept(user, t)
            tickets.append(t)
        sms(web, "SMv1", "1", frm="+8613600137101")
        sms(web, "SMv2", "2", frm="+8613600137102")
        assert _month(api, "2026-11")["valid_callbacks"] == 0
        sms(web, "SMv3", "12", frm="+8613600137102")
        callback = RatingCallback.objects.get(ticket=tickets[2], status="open")
        unreached = api(callback.operator).post(
            f"/api/callbacks/rating/{callback.pk}/record/", {"reached": False, "comment": "无人接听"}, format="json"
        )
        assert unreached.status_code == 200
        assert _month(api, "2026-11")["valid_callbacks"] == 1  # an unanswered call is no callback at all
        link = rating.rating_link(tickets[2]).removeprefix("https://12345.example.cn")
        page = web.post(
            link, {"satisfaction": "dissatisfied", "solved": "yes", "contacted": "yes", "comment": "态度敷衍"}
        )
        assert page.status_code == 200
    rsj = _month(api, "2026-11")
    assert {k: rsj[k] for k in ("ratings", "valid_callbacks", "contacted", "solved")} == {
        "ratings": 3,
        "valid_callbacks": 2,
        "contacted": 2,
        "solved": 1,
    }
    assert (rsj["satisfied"], rsj["basically_satisfied"], rsj["dissatisfied"]) == (0, 1, 1)
    assert (rsj["response_rate"], rsj["solved_rate"], rsj["satisfaction_rate"], rsj["composite"]) == (
        1.0,
        0.5,
        0.45,
        0.53,
    )


def test_a_repeat_call_counts_for_the_centre_and_the_unit_that_led_the_earlier_ticket(
    city: Any, cats: Any, user: Any, api: Any
) -> None:
    """E, filed Mon 2 Nov, is led by rsj. The same caller files R on Tue 10 Nov (8 days later) about the
    same matter; the dispatcher merges R into E on Wed 11 Nov. A stranger's ticket S merged into E too is no
    repeat call (another caller). Then R is unmerged on Thu 12 Nov: the count is withdrawn.

    After the merges: centre repeat_calls 1, accepted 3 → 重复来电率 1/3 = 0.3333; rsj repeat_calls 1,
    led 1 (E; R and S were merged before any dispatch) → 1/1 = 1.0. After the unmerge both are 0.
    """
    dispatcher = Actor.of(user("dispatcher1"))
    with time_machine.travel(_at(2026, 11, 2), tick=False) as clock:
        earlier = _file(user, cats, "+8613600137201")
        clock.move_to(_at(2026, 11, 10))
        repeat = _file(user, cats, "+8613600137201", auto_route=False)
        stranger = _file(user, cats, "+8613600137299", auto_route=False)
        clock.move_to(_at(2026, 11, 11))
        workflow.ticket_merge(ticket=repeat, master=earlier, actor=dispatcher, reason="同一来电人同一事项")
        workflow.ticket_merge(ticket=stranger, master=earlier, actor=dispatcher, reason="同一事项")
        centre, rsj = _month(api, "2026-11", "centre"), _month(api, "2026-11")
        assert (centre["repeat_calls"], centre["accepted"], centre["repeat_call_rate"]) == (1, 3, 0.3333)
        assert (rsj["repeat_calls"], rsj["led"], rsj["repeat_call_rate"]) == (1, 1, 1.0)
        clock.move_to(_at(2026, 11, 12))
        workflow.ticket_unmerge(ticket=repeat, actor=dispatcher, reason="并非同一事项")
    assert (_month(api, "2026-11", "centre")["repeat_calls"], _month(api, "2026-11")["repeat_calls"]) == (0, 0)
    assert TicketEvent.objects.filter(action="unmerge").count() == 1
    kept = _snapshot()
    scorecards.metrics_rebuild()
    assert _snapshot() == kept


def test_accepted_and_direct_answers_stay_with_the_centre(city: Any, cats: Any, user: Any, api: Any) -> None:
    """受理 and 直接答复 are the intake desk's work: 2 accepted, 1 answered directly → centre 0.5; the unit that
    led the other ticket has no accepted count and no direct-answer rate (None, not 0)."""
    with time_machine.travel(_at(2026, 11, 16), tick=False):
        _file(user, cats, "+8613600137301")
        direct = _file(user, cats, "+8613600137302", auto_route=False)
        operator = Actor.of(user("operator1"))  # a 投诉 answered at intake: confirmed on purpose
        workflow.ticket_answer_directly(ticket=direct, actor=operator, answer="已告知政策", confirm_kind=True)
    centre, rsj = _month(api, "2026-11", "centre"), _month(api, "2026-11")
    assert (centre["accepted"], centre["answered_directly"], centre["direct_answer_rate"]) == (2, 1, 0.5)
    assert (rsj["accepted"], rsj["answered_directly"], rsj["direct_answer_rate"], rsj["led"]) == (0, 0, None, 1)
