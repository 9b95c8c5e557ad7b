"""不予派单 from the staff pages (domain.md §3): 转110/119/120/122, 告知途径, 不予受理, 恶意来电.

The operator records it on the call form while the caller is on the line; a dispatcher records it
for a ticket already accepted (the 待派单 queue links to the ticket page's form). Each outcome ends
the ticket with its reason and no dispatch; the caller is told the outcome and the reason by one
SMS (none for 恶意来电). Enter on the call form still registers the call (受理).
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.ui.conftest import PHONE, login, screenshot
from tickets.core.actors import Actor
from tickets.core.models import Ticket
from tickets.intake.services import intake
from tickets.messaging.models import SmsMessage
from tickets.org.models import User

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SCREEN = {"width": 1366, "height": 900}


def test_operator_hands_a_call_to_110_and_the_caller_is_told_once(city: Any, new_page: Any) -> None:
    page = new_page(SCREEN)
    login(page, "operator1")
    page.get_by_label("诉求内容").fill("小区门口有人持刀打架，已经有人受伤了")
    page.get_by_label("来电号码").fill("13900071100")
    section = page.get_by_test_id("out-of-scope")
    section.locator("summary").click()
    section.get_by_role("button", name="不予派单并办结").click()  # nothing chosen yet: refused, nothing stored
    expect(page.get_by_role("status")).to_contain_text("请选择不予派单的结果")
    expect(page.get_by_label("诉求内容")).to_have_value("小区门口有人持刀打架，已经有人受伤了")
    assert not Ticket.objects.exists()

    section = page.get_by_test_id("out-of-scope")
    expect(section).to_have_attribute("open", "")  # the refused 不予派单 stays open
    expect(section.get_by_label("处理结果")).to_be_focused()  # on the field at fault
    section.get_by_label("处理结果").select_option(label="转110")
    section.get_by_label("原因（告知途径时写明应向何处反映）").fill("持刀伤人警情，已三方转接110")
    screenshot(page, "console-out-of-scope")
    with page.expect_navigation():
        section.get_by_role("button", name="不予派单并办结").click()
    expect(page.get_by_role("status")).to_contain_text("已记录处理结果，不派单")
    expect(page.get_by_role("status")).to_contain_text("不予派单（转110）")
    ticket = Ticket.objects.get(citizen_phone="+8613900071100")
    assert (ticket.state, ticket.outcome, ticket.outcome_reason) == (
        "out_of_scope",
        "emergency_110",
        "持刀伤人警情，已三方转接110",
    )
    assert not ticket.assignments.exists()
    texts = list(SmsMessage.objects.filter(ticket=ticket).values_list("body", flat=True))
    assert len(texts) == 1 and "已转110处理" in texts[0] and ticket.number in texts[0]  # no 受理 notice
    expect(page.get_by_label("诉求内容")).to_have_value("")  # stored: the form is clear for the next call


def test_enter_still_registers_the_call_with_an_outcome_chosen(city: Any, new_page: Any) -> None:
    page = new_page(SCREEN)
    login(page, "operator1")
    page.get_by_label("诉求内容").fill("楼下路灯坏了一个星期了，晚上很黑")
    section = page.get_by_test_id("out-of-scope")
    section.locator("summary").click()
    section.get_by_label("处理结果").select_option(label="不予受理")
    page.get_by_label("来电号码").fill("13900071101")
    with page.expect_navigation():
        page.get_by_label("来电号码").press("Enter")
    expect(page.get_by_role("status")).to_contain_text("已受理")
    ticket = Ticket.objects.get(citizen_phone="+8613900071101")
    assert ticket.state != "out_of_scope" and ticket.outcome == ""


def test_dispatcher_tells_the_citizen_the_lawful_channel_from_the_ticket_page(city: Any, new_page: Any) -> None:
    ticket = intake.ticket_create(
        actor=Actor.of(User.objects.get(username="operator1")),
        channel="web",
        text="我和邻居的房屋买卖合同纠纷，对方不肯过户，想请政府帮忙判一下",
        citizen_phone="13900071102",
        auto_route=False,
    )
    SmsMessage.objects.all().delete()  # the 受理 notice: this test reads the outcome's
    page = new_page(PHONE)
    login(page, "dispatcher1")
    page.goto(f"/tickets/{ticket.pk}/?oos=1#out-of-scope")
    form = page.get_by_test_id("out-of-scope-form")
    expect(form).to_be_visible()  # opened by the queue's link
    form.get_by_label("处理结果").select_option(label="告知途径")
    reason = "属于民事合同纠纷，请向房屋所在地人民法院提起诉讼"
    form.get_by_label("原因（告知途径时写明应向何处反映）").fill(reason)
    screenshot(page, "ticket-out-of-scope")
    with page.expect_navigation():
        form.get_by_role("button", name="不予派单并办结").click()
    expect(page.get_by_role("status")).to_contain_text(f"工单 {ticket.number} 已记录处理结果，不派单")
    ticket.refresh_from_db()
    assert (ticket.state, ticket.outcome) == ("out_of_scope", "lawful_channel")
    sms = SmsMessage.objects.get(ticket=ticket)
    assert sms.body.startswith("【12345热线】您反映的事项") and reason in sms.body and "其他途径" in sms.body
    expect(page.get_by_test_id("out-of-scope-form")).to_have_count(0)  # ended: no 派单 any more
