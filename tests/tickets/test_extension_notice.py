"""延期告知: when the centre approves the lead unit's extension, the citizen learns the new 办结时限 by SMS
(domain.md §4: "approved: deadline moves, citizen told")."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine

from tickets.core.actors import Actor
from tickets.core.models import Assignment, Ticket, TicketEvent
from tickets.core.services import workflow
from tickets.messaging.models import SmsMessage, SmsState
from tickets.messaging.services import sms
from tickets.org.models import Unit, User
from tickets.sla.deadlines import SHANGHAI
from tickets.sla.services import policy
from tickets.sla.services.calendar import calendar_seed_from_package

from .helpers import dispatched, new_ticket, staff

MONDAY = datetime(2025, 11, 3, 9, 0, tzinfo=SHANGHAI)  # dispatched: due Mon Nov 10, 23:59:59
SIGNED = datetime(2025, 11, 4, 9, 0, tzinfo=SHANGHAI)
NEW_DUE = datetime(2025, 11, 17, 23, 59, 59, tzinfo=SHANGHAI).astimezone(UTC)
PHONE = "+8613812341234"  # helpers.new_ticket's number, as the intake stores it


@pytest.fixture(autouse=True)
def _calendar(city: object) -> Iterator[None]:
    """2025's working days, so the deadlines are those of the dates written here."""
    calendar_seed_from_package(years=[2025])
    policy.calendar_invalidate()
    yield
    policy.calendar_invalidate()


def centre() -> Actor:
    return Actor.of(User.objects.get(username="dispatcher1"))


def _asked(unit: Unit, *, reason: str = "需现场勘验", **ticket: object) -> tuple[Ticket, Assignment]:
    """A ticket dispatched to `unit` on Monday, signed, with an extension to Nov 17 asked for."""
    with time_machine.travel(MONDAY, tick=False):
        t, lead = dispatched(unit, **ticket)
    clerk = Actor.of(staff(unit))
    with time_machine.travel(SIGNED, tick=False):
        workflow.assignment_sign(assignment=lead, actor=clerk)
        workflow.assignment_request_extension(assignment=lead, actor=clerk, until=NEW_DUE, reason=reason)
    return t, lead


def _decide(assignment: Assignment, *, approve: bool, reason: str = "") -> None:
    with time_machine.travel(SIGNED, tick=False):
        workflow.assignment_decide_extension(assignment=assignment, actor=centre(), approve=approve, reason=reason)


def _notices(ticket: Ticket) -> list[SmsMessage]:
    """What the citizen was sent about the deadline (not the 转办 notice of the dispatch)."""
    return list(SmsMessage.objects.filter(ticket=ticket, body__contains="延期").order_by("id"))


def test_approving_the_lead_units_extension_tells_the_citizen_the_new_deadline_once(units) -> None:
    ticket, lead = _asked(units["rsj"])
    _decide(lead, approve=True, reason="同意")
    [notice] = _notices(ticket)
    assert notice.to_phone == PHONE and notice.state == SmsState.QUEUED and notice.purpose == "other"
    assert notice.body == (
        f"【12345热线】您的工单{ticket.number}经热线中心同意延期办理，办结时限延至2025年11月17日 23:59。"
        "延期原因：需现场勘验。回复TD退订"
    )
    # The citizen's status page already says the extension was approved; no second history row.
    assert TicketEvent.objects.filter(ticket=ticket, action="approve_extension").count() == 1
    assert not TicketEvent.objects.filter(ticket=ticket, action__icontains="sms").exists()


def test_the_notice_leaves_through_the_outbox_after_the_commit(
    units, django_capture_on_commit_callbacks, eager_celery
) -> None:
    ticket, lead = _asked(units["rsj"])
    with django_capture_on_commit_callbacks(execute=True):
        _decide(lead, approve=True)
    [notice] = _notices(ticket)
    assert notice.state == SmsState.OUTBOX  # no Twilio in tests: the local outbox (/sms-outbox/) holds it


def test_the_api_approval_tells_the_citizen(api, units) -> None:
    ticket, lead = _asked(units["rsj"])
    with time_machine.travel(SIGNED, tick=False):
        r = api("supervisor1").post(f"/api/assignments/{lead.pk}/decide-extension/", {"approve": True}, format="json")
    assert r.status_code == 200, r.json()
    assert [m.to_phone for m in _notices(ticket)] == [PHONE]


def test_a_rejected_extension_tells_the_citizen_nothing(units) -> None:
    ticket, lead = _asked(units["rsj"])
    _decide(lead, approve=False, reason="理由不充分，请按期办结")
    assert _notices(ticket) == []


def test_an_opted_out_number_gets_no_notice(units) -> None:
    ticket, lead = _asked(units["rsj"])
    sms.sms_opt_out(phone=PHONE)
    _decide(lead, approve=True)
    # As for every notice: a 退订 number gets a suppressed row (the outbox shows why), never a message.
    assert [m.state for m in _notices(ticket)] == [SmsState.SUPPRESSED]


def test_a_ticket_without_a_phone_gets_no_notice(units) -> None:
    ticket, lead = _asked(units["rsj"], phone="")
    _decide(lead, approve=True)
    assert not SmsMessage.objects.filter(ticket=ticket).exists()


def test_a_passed_down_childs_extension_is_not_the_citizens_deadline(units) -> None:
    """下派: the district stays responsible for the ticket's deadline; the street's own is internal."""
    district, street = Actor.of(staff(units["donghu"])), Actor.of(staff(units["donghu-xinhua"]))
    with time_machine.travel(MONDAY, tick=False):
        ticket, lead = dispatched(units["donghu"])
    with time_machine.travel(SIGNED, tick=False):
        lead = workflow.assignment_sign(assignment=lead, actor=district)
        child = workflow.assignment_redispatch(assignment=lead, actor=district, child_unit=units["donghu-xinhua"])
        workflow.assignment_sign(assignment=child, actor=street)
        workflow.assignment_request_extension(assignment=child, actor=street, until=NEW_DUE, reason="待核实")
    _decide(child, approve=True)
    assert Assignment.objects.get(pk=child.pk).reply_due_at == NEW_DUE
    assert _notices(ticket) == []


def test_an_assisting_units_extension_is_not_the_citizens_deadline(units, cats) -> None:
    """协办: the assisting unit's deadline feeds the lead's reply, not the citizen's 办结时限."""
    clerk = Actor.of(staff(units["sthjj"]))
    with time_machine.travel(MONDAY, tick=False):
        ticket = workflow.ticket_dispatch(
            ticket=new_ticket(category=cats["zswr"], auto_route=False),
            actor=centre(),
            lead_unit=units["donghu"],
            assisting_units=[units["sthjj"]],
        )
    with time_machine.travel(SIGNED, tick=False):
        assist = workflow.assignment_sign(assignment=ticket.assignments.get(unit=units["sthjj"]), actor=clerk)
        workflow.assignment_request_extension(assignment=assist, actor=clerk, until=NEW_DUE, reason="需联合执法")
    _decide(assist, approve=True)
    assert Assignment.objects.get(pk=assist.pk).reply_due_at == NEW_DUE
    assert _notices(ticket) == []


def test_the_reason_is_cut_by_the_privacy_rule_and_kept_short(units) -> None:
    """The unit's reason reaches a citizen for the first time: no resident ID number in an SMS, and on a
    保密 ticket not the name either; a long reason is shortened so the notice stays two parts at most."""
    reason = "需约见张先生并核对产权人身份证110101199001011234的材料，" + "另需协调多个部门现场联合勘验" * 4
    ticket, lead = _asked(units["rsj"], reason=reason, confidential=True)
    _decide(lead, approve=True)
    [notice] = _notices(ticket)
    assert "110101199001011234" not in notice.body and "张先生" not in notice.body
    why = notice.body.split("延期原因：")[1].removesuffix("。回复TD退订")
    assert why.startswith("需约见***并核对产权人身份证***的材料") and why.endswith("…") and len(why) == 40
    assert len(notice.body) <= 134  # two concatenated UCS-2 parts
