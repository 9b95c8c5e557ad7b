"""What a clerk types on the ticket page is not lost (browser audit): a reply template is added after
the typed words, not put in their place; a refused note comes back with the focus in it, although
the address names the notes section (#notes), where the browser skips its own autofocus."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.tickets.helpers import dispatched, staff
from tests.ui.conftest import login
from tickets.core.actors import Actor
from tickets.core.services import workflow
from tickets.notes.models import ReplyTemplate
from tickets.org.models import Unit

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_template_is_added_after_what_was_typed(city: Any, new_page: Any) -> None:
    unit = Unit.objects.get(code="rsj")
    ticket, lead = dispatched(unit, text="单位拖欠工资三个月，多次讨要无果。")
    workflow.assignment_sign(assignment=lead, actor=Actor.of(staff(unit)))
    ReplyTemplate.objects.create(unit=unit, title="欠薪答复", body="已责令企业限期支付拖欠工资。")
    ReplyTemplate.objects.create(unit=unit, title="转劳动监察", body="已转劳动保障监察大队立案调查。")

    page = new_page({"width": 1366, "height": 900})
    login(page, "rsj_staff")
    page.goto(f"/tickets/{ticket.pk}/")
    reply = page.get_by_label("办理结果（办复）")
    reply.fill("经现场核查，情况属实。")
    page.get_by_label("答复模板").select_option(label="欠薪答复")
    expect(reply).to_have_value("经现场核查，情况属实。\n已责令企业限期支付拖欠工资。")

    reply.fill("")
    page.get_by_label("答复模板").select_option(label="欠薪答复")
    page.get_by_label("答复模板").select_option(label="转劳动监察")  # another, straight after: replaced
    expect(reply).to_have_value("已转劳动保障监察大队立案调查。")


def test_a_refused_note_comes_back_focused(city: Any, new_page: Any) -> None:
    ticket, _lead = dispatched(Unit.objects.get(code="rsj"))
    page = new_page({"width": 390, "height": 844})
    login(page, "operator1")
    page.goto(f"/tickets/{ticket.pk}/")
    note = page.get_by_label("添加备注")
    note.fill("核实情况：" + "很" * 2000)
    with page.expect_navigation():
        page.get_by_role("button", name="保存备注").click()
    expect(page.get_by_role("status")).to_contain_text("不能超过 2000 个字符")
    expect(page.get_by_label("添加备注")).to_be_focused()
