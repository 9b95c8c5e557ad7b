"""A reviewer types the reason for sending a reply back, or for refusing a return, and presses Enter:
nothing is decided (an audit saw Enter in 审核意见 press the first button, 通过 / 同意退回, and the
citizen was asked to rate a reply the reviewer meant to send back)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.tickets.helpers import dispatched, staff
from tests.ui.conftest import login
from tickets.core.actors import Actor
from tickets.core.models import Ticket
from tickets.core.services import workflow
from tickets.org.models import Unit

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_enter_in_a_reason_box_decides_nothing(city: Any, new_page: Any) -> None:
    unit = Unit.objects.get(code="rsj")
    replied, lead = dispatched(unit, text="单位拖欠工资三个月，多次讨要无果。")
    clerk = Actor.of(staff(unit))
    workflow.assignment_sign(assignment=lead, actor=clerk)
    workflow.assignment_reply(assignment=lead, actor=clerk, text="已约谈企业负责人，工资将于本周发放。")
    returning, asked = dispatched(unit, text="小区门口道路破损严重，雨天积水。")
    workflow.assignment_request_return(
        assignment=asked, actor=clerk, reason="不属于本单位职责", legal_basis="职责分工规定"
    )

    page = new_page({"width": 1366, "height": 900})
    login(page, "dispatcher1")
    for box in (f"#rv-{replied.pk}", f"#rr-{asked.pk}"):
        reason = page.locator(box)
        reason.fill("答复未说明工资发放结果，请重办")
        reason.press("Enter")
        expect(reason).to_have_value("答复未说明工资发放结果，请重办\n")  # a new line, not a submit
    assert Ticket.objects.get(pk=replied.pk).state == "replied"
    asked.refresh_from_db()
    assert asked.state == "return_requested"
    assert Ticket.objects.get(pk=returning.pk).events.filter(action="approve_return").count() == 0
