"""限时办结 on a dispatched assignment: stored deadlines and level moments, policy versions,
extensions and pauses that move the deadline, and verdicts frozen when the assignment ends."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
import time_machine

from tests.sla.conftest import Dispatch, fresh, local, staff, ticket_of
from tickets.core.actors import Actor
from tickets.core.models import Kind, TicketEvent, Urgency
from tickets.core.services import workflow
from tickets.errors import TransitionNotAllowed
from tickets.org.models import User
from tickets.sla.calendar_source import days_from_chinesecalendar
from tickets.sla.deadlines import DayType
from tickets.sla.models import SlaPolicy
from tickets.sla.services import clock
from tickets.sla.services import policy as sla_policy
from tickets.sla.services.calendar import calendar_store_year


def eod(y: int, m: int, d: int):
    return local(y, m, d, 23, 59, 59).astimezone(UTC)


def centre() -> Actor:
    return Actor.of(User.objects.get(username="dispatcher1"))


def test_dispatch_stores_deadlines_and_the_three_levels_across_national_day(dispatch: Dispatch) -> None:
    # 求助/一般: sign 24 h, reply 5 working days. From Tue Sep 30 2025: Oct 9, 10, Sat 11 (调休), 13, 14.
    a = dispatch(local(2025, 9, 30, 10, 0))
    assert a.sign_due_at == local(2025, 10, 1, 10, 0)
    assert a.reply_due_at == eod(2025, 10, 14)
    assert a.warn_at == eod(2025, 10, 13)  # 催办: one working day before
    assert a.supervise_at == local(2025, 10, 15, 0, 0)  # 督办: the next working day
    assert a.notice_at == local(2025, 10, 22, 0, 0)  # 通报: five working days after the 督办
    assert ticket_of(a).due_at == a.reply_due_at
    assert a.sla_policy is not None and a.calendar_gap_year is None


def test_a_policy_edit_is_a_new_version_and_applies_to_new_assignments_only(dispatch: Dispatch) -> None:
    before = dispatch(local(2025, 11, 3, 9, 0))
    old = SlaPolicy.objects.get(pk=before.sla_policy_id)
    new = sla_policy.policy_revise(policy=old, changes={"reply_amount": 3})
    old.refresh_from_db()
    assert new.pk != old.pk and new.supersedes_id == old.pk
    assert not old.is_current and old.reply_amount == 5  # the old row is history, unchanged
    after = dispatch(local(2025, 11, 3, 9, 0))
    assert fresh(before).reply_due_at == eod(2025, 11, 10)  # 5 working days, as it was created
    assert after.sla_policy_id == new.pk and after.reply_due_at == eod(2025, 11, 6)  # 3 working days
    with pytest.raises(TransitionNotAllowed):
        sla_policy.policy_revise(policy=old, changes={"reply_amount": 4})


def test_an_admin_edit_of_a_policy_creates_a_version_row(dispatch: Dispatch, client) -> None:
    a = dispatch(local(2025, 11, 3, 9, 0))
    policy = SlaPolicy.objects.get(pk=a.sla_policy_id)
    client.force_login(User.objects.get(username="admin"))
    editable = sla_policy.POLICY_EDITABLE | {"sign_unit", "reply_unit"}
    form = {f: getattr(policy, f) for f in editable if f != "pause_allowed"}
    form.update({"reply_amount": 7, "pause_allowed": "on"})
    response = client.post(f"/admin/tickets/slapolicy/{policy.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    current = SlaPolicy.objects.get(profile=policy.profile, kind=policy.kind, urgency=policy.urgency, is_current=True)
    assert current.pk != policy.pk and current.reply_amount == 7
    policy.refresh_from_db()
    assert policy.reply_amount == 5 and not policy.is_current


def test_approved_extension_moves_the_deadline_and_reschedules_the_levels(dispatch: Dispatch) -> None:
    a = dispatch(local(2025, 11, 3, 9, 0))  # Mon; due Mon Nov 10
    unit = staff("rsj")
    with time_machine.travel(local(2025, 11, 4, 9, 0), tick=False):
        workflow.assignment_sign(assignment=a, actor=unit)
        workflow.assignment_request_extension(assignment=a, actor=unit, until=eod(2025, 11, 17), reason="需现场勘验")
        workflow.assignment_decide_extension(assignment=a, actor=centre(), approve=True)
    a = fresh(a)
    assert a.reply_due_at == eod(2025, 11, 17)
    assert a.warn_at == eod(2025, 11, 14)
    assert a.supervise_at == local(2025, 11, 18)
    assert ticket_of(a).due_at == eod(2025, 11, 17)


def test_pause_and_resume_move_the_deadline_by_the_pause(dispatch: Dispatch) -> None:
    a = dispatch(local(2025, 11, 3, 9, 0))
    unit = staff("rsj")
    with time_machine.travel(local(2025, 11, 4, 9, 0), tick=False):
        workflow.assignment_sign(assignment=a, actor=unit)
        clock.assignment_pause_clock(assignment=a, actor=unit, reason="等待群众补充材料")
    paused = fresh(a)
    assert paused.clock_paused_at is not None
    assert paused.warn_at is None and paused.supervise_at is None  # nothing fires while paused
    with time_machine.travel(local(2025, 11, 6, 9, 0), tick=False):
        clock.assignment_resume_clock(assignment=a, actor=unit, reason="材料已补齐")
    resumed = fresh(a)
    assert resumed.clock_paused_at is None
    assert resumed.reply_due_at == eod(2025, 11, 10) + timedelta(days=2)
    assert resumed.paused_seconds == 2 * 86400
    assert resumed.warn_at is not None and resumed.warn_at < resumed.reply_due_at
    actions = list(TicketEvent.objects.filter(assignment=a).values_list("action", flat=True))
    assert "clock_paused" in actions and "clock_resumed" in actions


def test_a_policy_can_forbid_pausing(dispatch: Dispatch) -> None:
    a = dispatch(local(2025, 11, 3, 9, 0))
    SlaPolicy.objects.filter(pk=a.sla_policy_id).update(pause_allowed=False)
    unit = staff("rsj")
    with time_machine.travel(local(2025, 11, 4, 9, 0), tick=False):
        workflow.assignment_sign(assignment=a, actor=unit)
        with pytest.raises(TransitionNotAllowed, match="不允许暂停"):
            clock.assignment_pause_clock(assignment=a, actor=unit, reason="等待材料")


def test_a_reply_while_paused_resumes_first_and_judges_by_the_moved_deadline(dispatch: Dispatch) -> None:
    a = dispatch(local(2025, 11, 3, 9, 0))  # due Nov 10 23:59:59
    unit = staff("rsj")
    with time_machine.travel(local(2025, 11, 4, 9, 0), tick=False):
        workflow.assignment_sign(assignment=a, actor=unit)
        clock.assignment_pause_clock(assignment=a, actor=unit, reason="等待群众补充材料")
    with time_machine.travel(local(2025, 11, 11, 9, 0), tick=False):  # after the original deadline
        workflow.assignment_reply(assignment=a, actor=unit, text="已修复")
    a = fresh(a)
    assert a.reply_on_time is True  # 7 days paused: the deadline moved to Nov 17
    assert a.reply_due_at == eod(2025, 11, 17)


def test_verdicts_are_frozen_when_the_assignment_ends(dispatch: Dispatch) -> None:
    a = dispatch(local(2025, 11, 3, 9, 0))  # due Mon Nov 10
    unit = staff("rsj")
    with time_machine.travel(local(2025, 11, 3, 10, 0), tick=False):
        workflow.assignment_sign(assignment=a, actor=unit)
    with time_machine.travel(local(2025, 11, 10, 20, 0), tick=False):
        workflow.assignment_reply(assignment=a, actor=unit, text="已处理完毕")
    a = fresh(a)
    assert a.sign_on_time is True and a.reply_on_time is True
    # An admin later re-imports 2025 with Nov 4-7 as holidays: the deadline, had it been computed
    # now, would be Nov 14, and a 5-day deadline from Nov 3 could not have been Nov 10.
    days = days_from_chinesecalendar(2025)
    for d in range(4, 8):
        days[local(2025, 11, d).date()] = DayType.HOLIDAY
    calendar_store_year(year=2025, days=days, source="admin-edit")
    a = fresh(a)
    assert a.reply_due_at == eod(2025, 11, 10)
    assert a.sign_on_time is True and a.reply_on_time is True
    assert not TicketEvent.objects.filter(assignment=a, action="sla.deadline_filled").exists()


def test_centre_time_and_unit_time_are_measured_apart(dispatch: Dispatch, user) -> None:
    from tickets.intake.services import intake

    with time_machine.travel(local(2025, 11, 3, 9, 0), tick=False):
        ticket = intake.ticket_create(actor=Actor.system("test"), channel="web", text="噪音扰民", auto_route=False)
    with time_machine.travel(local(2025, 11, 3, 10, 0), tick=False):  # 1 h at the centre
        workflow.ticket_dispatch(ticket=ticket, actor=centre(), lead_unit=user("rsj_staff").unit)
    a = ticket.assignments.get()
    with time_machine.travel(local(2025, 11, 3, 13, 0), tick=False):  # 3 h at the unit
        workflow.assignment_sign(assignment=a, actor=staff("rsj"))
        workflow.assignment_reply(assignment=a, actor=staff("rsj"), text="已处理")
    with time_machine.travel(local(2025, 11, 3, 15, 0), tick=False):  # 2 h of review
        workflow.ticket_review_reply(ticket=ticket, actor=centre(), accept=True)
    ticket.refresh_from_db()
    split = clock.ticket_time_split(ticket, now=local(2025, 11, 5, 0, 0))
    assert split == {"centre_seconds": 3 * 3600, "unit_seconds": 3 * 3600, "paused_seconds": 0}


def test_hour_limits_for_urgent_tickets(dispatch: Dispatch) -> None:
    a = dispatch(local(2025, 10, 1, 8, 0), kind=Kind.COMPLAINT, urgency=Urgency.CRITICAL)
    assert a.sign_due_at == local(2025, 10, 1, 8, 30)
    assert a.reply_due_at == local(2025, 10, 1, 10, 0)  # 2 h on the wall clock, holiday or not
    assert a.warn_at == local(2025, 10, 1, 9, 36)  # 20 % before
