"""待派单 after a unit's return was approved (an audit: 市卫健委 returned a ticket as not its duty, the
return was approved, and one-click 派单 sent it straight back to 市卫健委 by the catalogue, with no
sign in the queue that it had been returned and no way to name another unit)."""

from __future__ import annotations

from typing import Any

from django.test import Client

from tests.tickets.helpers import dispatched, staff
from tickets.core.actors import Actor
from tickets.core.models import Ticket
from tickets.core.services import workflow
from tickets.org.models import Category, Unit, User


def _returned_to_the_queue() -> Ticket:
    zjj = Unit.objects.get(code="zjj")
    text = "小区楼道墙皮大面积脱落，存在安全隐患。"
    ticket, lead = dispatched(zjj, text=text, category=Category.objects.get(code="cxjs"))
    reason = "属于物业维修范围，不属于本单位职责"
    clerk = Actor.of(staff(zjj))
    workflow.assignment_request_return(assignment=lead, actor=clerk, reason=reason, legal_basis="物业管理条例")
    lead.refresh_from_db()
    workflow.assignment_decide_return(
        assignment=lead, actor=Actor.of(User.objects.get(username="dispatcher1")), approve=True, reason="同意"
    )
    ticket.refresh_from_db()
    assert ticket.state == "dispatching"
    return ticket


def _dispatcher() -> Client:
    client = Client()
    client.force_login(User.objects.get(username="dispatcher1"))
    return client


def test_the_queue_says_who_returned_it_and_the_catalogue_cannot_send_it_back(city: Any) -> None:
    ticket = _returned_to_the_queue()
    dispatcher = _dispatcher()
    queue = dispatcher.get("/console/panels/queue/").content.decode()
    assert "市住建局 已退回" in queue and "属于物业维修范围" in queue

    cxjs = Category.objects.get(code="cxjs")  # the catalogue's unit for it is 市住建局, which returned it
    refused = dispatcher.post(f"/console/tickets/{ticket.pk}/dispatch/", {"category": cxjs.pk}, follow=True)
    assert "市住建局 已退回本工单" in refused.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).state == "dispatching"

    street = Unit.objects.get(code="donghu-xinhua")
    named = dispatcher.post(
        f"/console/tickets/{ticket.pk}/dispatch/", {"category": cxjs.pk, "lead_unit": street.pk}, follow=True
    )
    assert f"已派单至 {street.name}" in named.content.decode()
    ticket.refresh_from_db()
    assert ticket.state == "in_progress" and ticket.lead_unit == street


def test_the_ticket_page_offers_every_unit_but_the_one_that_returned_it(city: Any) -> None:
    ticket = _returned_to_the_queue()
    page = _dispatcher().get(f"/tickets/{ticket.pk}/").content.decode()
    choices = page.split('id="dsp-unit"', 1)[1].split("</select>", 1)[0]
    assert "按派单目录" in choices and "市卫健委" in choices and "市住建局" not in choices
