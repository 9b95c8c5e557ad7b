"""A refused panel action on the console keeps the dispatcher where the refusal is (an operators' audit:
驳回 with no reason, 退回重办 with a reason too long, a low-confidence 派单: the message came back but the
cursor jumped to the call form at the top, and the words typed in the panel were gone).
And 登记回拨结果: a missed call called back from a desk phone is recorded on the page."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.tickets.helpers import dispatched, staff
from tests.ui.conftest import DESKTOP, PHONE, login, screenshot
from tests.ui.test_small_defects import _queued
from tickets.core.actors import Actor
from tickets.core.models import Ticket
from tickets.core.services import workflow
from tickets.intake.models import Call, CallbackTask
from tickets.org.models import Category, Unit

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SCREEN = {"width": 1366, "height": 900}


def _focused(page: Any) -> str:
    return str(page.evaluate("document.activeElement && document.activeElement.id"))


def test_a_refused_reject_or_send_back_keeps_the_focus_and_the_words_in_its_panel(city: Any, new_page: Any) -> None:
    unit = Unit.objects.get(code="rsj")
    clerk = Actor.of(staff(unit))
    replied, lead = dispatched(unit, text="单位拖欠工资三个月，多次讨要无果。")
    workflow.assignment_sign(assignment=lead, actor=clerk)
    workflow.assignment_reply(assignment=lead, actor=clerk, text="已约谈企业负责人，工资将于本周发放。")
    _returning, asked = dispatched(unit, text="小区门口道路破损严重，雨天积水。")
    workflow.assignment_request_return(
        assignment=asked, actor=clerk, reason="不属于本单位职责", legal_basis="职责分工规定"
    )
    page = new_page(SCREEN)
    login(page, "dispatcher1")

    # 驳回 with the reason left empty, from the keyboard: reason box, Tab to 同意退回, Tab to 驳回, Enter.
    page.locator(f"#rr-{asked.pk}").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "驳回"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("请填写驳回理由")
    reason = page.locator(f"#rr-{asked.pk}")
    expect(reason).to_be_focused()  # not the call form's 诉求类型
    expect(reason).to_have_attribute("aria-invalid", "true")
    assert _focused(page) == f"rr-{asked.pk}"
    asked.refresh_from_db()
    assert asked.state == "return_requested"
    page.keyboard.type("属于本单位职责，请继续办理")  # the cursor is in the box: typing goes there
    with page.expect_navigation():
        page.locator(f"#return-{asked.pk}").get_by_role("button", name="驳回").click()
    expect(page.get_by_role("status")).to_contain_text("已驳回退回申请")
    asked.refresh_from_db()
    assert asked.state != "return_requested"

    # 退回重办 with a reason over the limit: back as typed, marked and focused.
    too_long = "答复未说明工资发放结果，请重办。" * 130  # over 2000 characters
    page.locator(f"#rv-{replied.pk}").fill(too_long)
    with page.expect_navigation():
        page.locator(f"#review-{replied.pk}").get_by_role("button", name="退回重办").click()
    expect(page.get_by_role("status")).to_contain_text("不能超过 2000 个字符")
    box = page.locator(f"#rv-{replied.pk}")
    expect(box).to_be_focused()
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(box).to_have_value(too_long)  # the words typed in the panel are kept
    assert Ticket.objects.get(pk=replied.pk).state == "replied"
    box.fill("答复未说明工资发放结果，请重办。")
    with page.expect_navigation():
        page.locator(f"#review-{replied.pk}").get_by_role("button", name="退回重办").click()
    expect(page.get_by_role("status")).to_contain_text("已退回承办单位重办")
    # A later visit is a plain console again: the cursor in the call form.
    page.goto("/console/")
    expect(page.locator("#f-kind")).to_be_focused()


def test_a_low_confidence_dispatch_keeps_the_choice_and_the_focus_in_its_row(city: Any, new_page: Any) -> None:
    ticket = _queued("我想反映一下那个事情，具体也说不清楚", [("劳动和社会保障", 0.02), ("卫生计生", 0.01)])
    chosen = Category.objects.get(name="劳动和社会保障")
    rsj = Unit.objects.get(code="rsj")
    page = new_page(SCREEN)
    login(page, "dispatcher1")
    row = page.locator(f"#queue-{ticket.pk}")
    row.get_by_label("承办单位").select_option(str(rsj.pk))
    with page.expect_navigation():
        row.get_by_role("button", name="派单", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("置信度仅 2%")
    category = page.locator(f"#cat-{ticket.pk}")
    expect(category).to_be_focused()
    expect(category).to_have_attribute("aria-invalid", "true")
    expect(category).to_have_value(str(chosen.pk))
    expect(page.locator(f"#unit-{ticket.pk}")).to_have_value(str(rsj.pk))  # the unit chosen is kept
    assert Ticket.objects.get(pk=ticket.pk).state == "dispatching"
    # Warned, the dispatcher confirms from the keyboard: 派单 again in the same row, same category.
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "派单"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text(f"工单 {ticket.number} 已派单至 市人社局")
    ticket.refresh_from_db()
    assert ticket.state == "in_progress" and ticket.lead_unit == rsj


def _missed_call(sid: str, phone: str) -> CallbackTask:
    call = Call.objects.create(call_sid=sid, phone=phone, status="no-answer")
    return CallbackTask.objects.create(call=call, phone=phone, reason="排队等待35秒后挂断")


def test_a_callback_made_from_a_desk_phone_is_recorded_on_the_console(city: Any, new_page: Any) -> None:
    task = _missed_call("CA" + "c" * 32, "+8613700001234")
    other = _missed_call("CA" + "d" * 32, "+8613700005678")
    for viewport in (DESKTOP, PHONE):
        page = new_page(viewport)
        login(page, "operator1")
        panel = page.locator("#panel-callbacks")
        panel.get_by_text("登记回拨结果").first.click()
        panel.scroll_into_view_if_needed()
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1
        screenshot(page, "console-callbacks")

    row = page.locator(f"#callback-task-{task.pk}")
    expect(row).to_contain_text("137 0000 1234")
    row.get_by_label("回拨结果").select_option(label="已联系上")
    row.get_by_label("回拨记录（选填）").fill("市民称问题已自行解决")
    with page.expect_navigation():
        row.get_by_role("button", name="已回拨").click()
    expect(page.get_by_role("status")).to_contain_text("已登记回拨结果：137 0000 1234")
    expect(page.locator(f"#callback-task-{task.pk}")).to_have_count(0)  # off the list
    task.refresh_from_db()
    assert (task.state, task.note) == ("done", "已联系上：市民称问题已自行解决")

    # Recorded meanwhile by someone else (another operator, the phone line): refused by name.
    row = page.locator(f"#callback-task-{other.pk}")
    row.get_by_text("登记回拨结果").click()
    row.get_by_label("回拨结果").select_option(label="无人接听")
    CallbackTask.objects.filter(pk=other.pk).update(
        state="done", done_at=timezone.now(), note="话务台回拨已接通，通话30秒"
    )
    with page.expect_navigation():
        row.get_by_role("button", name="已回拨").click()
    expect(page.get_by_role("status")).to_contain_text("回拨 137 0000 5678：该回拨任务已于")
    expect(page.locator("#panel-callbacks")).to_contain_text("没有待回拨的未接来电。")
    other.refresh_from_db()
    assert other.note == "话务台回拨已接通，通话30秒"
