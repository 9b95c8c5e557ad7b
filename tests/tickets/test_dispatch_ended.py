"""派单 of a ticket that has ended (办结, 直接答复, 不予派单, 并单) is refused for having ended, naming the
ticket, whichever unit was chosen. A bulk 派单 to a street reported the functional-matter rule
(职能部门事项不得派给街道或社区) for a closed 拖欠工资 ticket: the unit was checked before the state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from tests.tickets.helpers import lead_of, new_ticket, staff
from tickets.core.actors import Actor
from tickets.core.models import Kind, Outcome, Ticket
from tickets.core.services import workflow
from tickets.errors import InvalidInput, TransitionNotAllowed
from tickets.org.models import User


def _dispatcher() -> Actor:
    return Actor.of(User.objects.get(username="dispatcher1"))


def _closed(units: Any, cats: Any) -> Ticket:
    """办结 through the real lifecycle: dispatch, sign, reply, review, close."""
    ticket = new_ticket(category=cats["tqgz"], auto_route=False)
    ticket = workflow.ticket_dispatch(ticket=ticket, actor=_dispatcher(), lead_unit=units["rsj"])
    clerk = Actor.of(staff(units["rsj"]))
    assignment = workflow.assignment_sign(assignment=lead_of(ticket), actor=clerk)
    workflow.assignment_reply(assignment=assignment, actor=clerk, text="已督促企业足额发放拖欠工资")
    workflow.ticket_review_reply(ticket=ticket, actor=_dispatcher(), accept=True)
    return workflow.ticket_close(ticket=ticket, actor=_dispatcher(), reason="工资已发放")


def _answered(units: Any, cats: Any) -> Ticket:
    ticket = new_ticket(category=cats["tqgz"], kind=Kind.CONSULT, auto_route=False)
    return workflow.ticket_answer_directly(ticket=ticket, actor=_dispatcher(), answer="已告知劳动监察投诉途径")


def _out_of_scope(units: Any, cats: Any) -> Ticket:
    ticket = new_ticket(category=cats["tqgz"], auto_route=False)
    return workflow.ticket_mark_out_of_scope(
        ticket=ticket, actor=_dispatcher(), outcome=Outcome.LAWFUL_CHANNEL, reason="已告知劳动仲裁途径"
    )


def _merged(units: Any, cats: Any) -> Ticket:
    master = new_ticket(category=cats["tqgz"], auto_route=False)
    child = new_ticket(category=cats["tqgz"], auto_route=False, phone="13900001111")
    return workflow.ticket_merge(ticket=child, master=master, actor=_dispatcher(), reason="同一企业拖欠工资")


ENDED: dict[str, tuple[Callable[[Any, Any], Ticket], str]] = {
    "closed": (_closed, "已办结"),
    "answered_directly": (_answered, "直接答复"),
    "out_of_scope": (_out_of_scope, "不予派单"),
    "merged": (_merged, "已并单"),
}


@pytest.mark.parametrize("unit", ["donghu-xinhua", "zjj"])  # a street (the functional rule applies), a department
@pytest.mark.parametrize("state", list(ENDED))
def test_an_ended_ticket_is_refused_for_having_ended_whichever_unit(
    units: Any, cats: Any, state: str, unit: str
) -> None:
    make, label = ENDED[state]
    ticket = make(units, cats)
    assert ticket.state == state
    events = ticket.events.count()
    with pytest.raises(TransitionNotAllowed) as refused:
        workflow.ticket_dispatch(ticket=ticket, actor=_dispatcher(), lead_unit=units[unit], category=cats["zswr"])
    assert refused.value.rule == "ticket_ended"
    assert refused.value.message == f"工单 {ticket.number} 已结束（{label}），不能派单"
    ticket.refresh_from_db()
    assert ticket.state == state and ticket.category == cats["tqgz"]  # the category override was not kept
    assert ticket.events.count() == events


def test_an_open_functional_matter_is_still_refused_for_a_street(units: Any, cats: Any) -> None:
    ticket = new_ticket(category=cats["tqgz"], auto_route=False)
    with pytest.raises(InvalidInput) as refused:
        workflow.ticket_dispatch(ticket=ticket, actor=_dispatcher(), lead_unit=units["donghu-xinhua"])
    assert refused.value.rule == "functional_not_to_street"


def test_the_api_refuses_an_ended_ticket_with_409(api: Any, units: Any, cats: Any) -> None:
    ticket = _closed(units, cats)
    r = api("dispatcher1").post(
        f"/api/tickets/{ticket.pk}/dispatch/", {"lead_unit": units["donghu-xinhua"].pk}, format="json"
    )
    assert r.status_code == 409
    assert r.json()["rule"] == "ticket_ended"
    assert r.json()["detail"] == f"工单 {ticket.number} 已结束（已办结），不能派单"


def _said(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_bulk_dispatch_names_the_ended_ticket_and_sends_the_others(units: Any, cats: Any) -> None:
    lamps = [
        new_ticket(text=f"人民路{i}号路灯不亮，晚上很黑", category=cats["zswr"], auto_route=False) for i in range(2)
    ]
    closed = _closed(units, cats)
    merged = _merged(units, cats)
    client = Client()
    client.force_login(User.objects.get(username="operator1"))
    response = client.post(
        "/tickets/bulk/",
        {
            "action": "dispatch",
            "ticket": [t.pk for t in (*lamps, closed, merged)],
            "lead_unit": units["donghu-xinhua"].pk,
            "query": "q=人民路",
        },
    )
    assert response.status_code == 302
    said = _said(response)
    assert f"已派单 2 件：{lamps[0].number}、{lamps[1].number}" in said
    assert f"工单 {closed.number} 已结束（已办结），不能派单" in said
    assert f"工单 {merged.number} 已结束（已并单），不能派单" in said
    assert not any("职能部门事项" in line for line in said)
    closed.refresh_from_db()
    merged.refresh_from_db()
    assert (closed.state, merged.state) == ("closed", "merged")


def test_bulk_dispatch_still_reports_other_refusals_under_the_ticket_number(units: Any, cats: Any) -> None:
    wages = new_ticket(category=cats["tqgz"], auto_route=False)  # open: the street is the fault
    client = Client()
    client.force_login(User.objects.get(username="operator1"))
    response = client.post(
        "/tickets/bulk/", {"action": "dispatch", "ticket": [wages.pk], "lead_unit": units["donghu-xinhua"].pk}
    )
    assert _said(response) == [f"工单 {wages.number}：职能部门事项不得派给街道或社区"]


def test_the_single_ticket_dispatch_page_says_the_same(units: Any, cats: Any) -> None:
    closed = _closed(units, cats)
    client = Client()
    client.force_login(User.objects.get(username="dispatcher1"))
    response = client.post(
        f"/console/tickets/{closed.pk}/dispatch/",
        {"category": cats["tqgz"].pk, "lead_unit": units["donghu-xinhua"].pk},
    )
    assert response.status_code == 302
    assert _said(response) == [f"工单 {closed.number} 已结束（已办结），不能派单"]
