"""The centre's actions on the ticket page (驳回 a return or an extension, 退回重办, 派单) post to the
console's views; a refusal came back to the ticket page with the words typed gone and the cursor at
the top of the page, the refused form's field neither marked nor focused (the console kept them, the
ticket page did not). Through Django's test client; the browser check is at the end."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from playwright.sync_api import expect

from tests.tickets.helpers import dispatched, new_ticket, staff
from tests.ui.conftest import DESKTOP, PHONE, login, screenshot
from tickets.core.actors import Actor
from tickets.core.models import Assignment, Ticket
from tickets.core.services import workflow
from tickets.org.models import Category, Unit, User

TOO_LONG = "申请理由与事实不符，请继续办理。" * 130  # over the 2000 characters a reason may have


def _dispatcher() -> Client:
    client = Client()
    client.force_login(User.objects.get(username="dispatcher1"))
    return client


def _asked_to_return() -> tuple[Ticket, Assignment]:
    unit = Unit.objects.get(code="rsj")
    ticket, lead = dispatched(unit, text="小区门口道路破损严重，雨天积水。")
    workflow.assignment_request_return(
        assignment=lead, actor=Actor.of(staff(unit)), reason="不属于本单位职责", legal_basis="职责分工规定"
    )
    return ticket, lead


def _replied() -> Ticket:
    unit = Unit.objects.get(code="rsj")
    ticket, lead = dispatched(unit, text="单位拖欠工资三个月，多次讨要无果。")
    clerk = Actor.of(staff(unit))
    workflow.assignment_sign(assignment=lead, actor=clerk)
    workflow.assignment_reply(assignment=lead, actor=clerk, text="已约谈企业负责人，工资将于本周发放。")
    return ticket


def _unsure(text: str = "我想反映一下那个事情，具体也说不清楚") -> Ticket:
    """Waiting for a dispatcher, the classifier 2 % sure of 劳动和社会保障 (派单 asks to confirm)."""
    ticket = new_ticket(auto_route=False, text=text)
    labour = Category.objects.get(name="劳动和社会保障")
    suggestions = [{"label": labour.name, "probability": 0.02, "category": labour.pk}]
    Ticket.objects.filter(pk=ticket.pk).update(state="dispatching", classification={"suggestions": suggestions})
    return ticket


def _tag(page: str, element_id: str) -> str:
    found = re.search(rf'<(?:textarea|select)[^>]* id="{element_id}"[^>]*>', page)
    assert found is not None, element_id
    return found.group(0)


def test_a_refused_reject_on_the_ticket_page_comes_back_there_as_typed(city: Any) -> None:
    ticket, lead = _asked_to_return()
    back = f"/tickets/{ticket.pk}/"
    refused = _dispatcher().post(
        f"/console/assignments/{lead.pk}/return/",
        {"decision": "reject", "reason": TOO_LONG, "back": back},
        follow=True,
    )
    assert refused.redirect_chain[-1][0] == back  # the page itself: a #fragment would skip the focus
    page = refused.content.decode()
    assert "不能超过 2000 个字符" in page
    box = _tag(page, f"rr-{lead.pk}")
    assert 'aria-invalid="true"' in box and "autofocus" in box
    assert f">{TOO_LONG}</textarea>" in page
    lead.refresh_from_db()
    assert lead.state == "return_requested"
    # Shown once: the next visit is the plain page; the console never showed it.
    again = _dispatcher().get(back).content.decode()
    assert TOO_LONG not in again and "aria-invalid" not in _tag(again, f"rr-{lead.pk}")


def test_a_refused_send_back_on_the_ticket_page_keeps_the_reason(city: Any) -> None:
    ticket = _replied()
    dispatcher = _dispatcher()
    refused = dispatcher.post(
        f"/console/tickets/{ticket.pk}/review/",
        {"decision": "send_back", "reason": TOO_LONG, "back": f"/tickets/{ticket.pk}/"},
        follow=True,
    )
    page = refused.content.decode()
    assert 'aria-invalid="true" autofocus' in _tag(page, "rv-reason") and f">{TOO_LONG}</textarea>" in page
    assert Ticket.objects.get(pk=ticket.pk).state == "replied"
    assert TOO_LONG not in dispatcher.get("/console/").content.decode()  # kept for the ticket page only


def test_the_console_still_keeps_its_own_refused_panel(city: Any) -> None:
    ticket = _replied()
    dispatcher = _dispatcher()
    dispatcher.post(f"/console/tickets/{ticket.pk}/review/", {"decision": "send_back", "reason": TOO_LONG})
    console = dispatcher.get("/console/").content.decode()
    assert 'aria-invalid="true"' in _tag(console, f"rv-{ticket.pk}") and TOO_LONG in console
    assert TOO_LONG not in dispatcher.get(f"/tickets/{ticket.pk}/").content.decode()


def test_a_refused_dispatch_on_the_ticket_page_keeps_the_category_and_the_unit(city: Any) -> None:
    ticket = _unsure()
    labour = Category.objects.get(name="劳动和社会保障")
    zjj = Unit.objects.get(code="zjj")
    back = f"/tickets/{ticket.pk}/"
    dispatcher = _dispatcher()
    posted = {"category": labour.pk, "lead_unit": zjj.pk, "back": back}
    refused = dispatcher.post(f"/console/tickets/{ticket.pk}/dispatch/", posted, follow=True)
    page = refused.content.decode()
    assert refused.redirect_chain[-1][0] == back and "置信度仅 2%" in page
    # What to do next holds on this page too (it said 在该工单旁, the console's queue row).
    assert "确认无误后按同一分类再次派单即为确认" in page and "在该工单旁" not in page
    assert 'aria-invalid="true" autofocus' in _tag(page, "dsp-cat")
    assert re.search(rf'<option value="{labour.pk}" selected>劳动和社会保障（2%）</option>', page)
    assert "aria-invalid" not in _tag(page, "dsp-unit")
    assert re.search(rf'<option value="{zjj.pk}" selected>市住建局</option>', page)
    assert Ticket.objects.get(pk=ticket.pk).state == "dispatching"
    # Warned, 派单 again from the page is the confirmation (the form now carries it), to the unit chosen.
    assert '<input type="hidden" name="confirm_low" value="1">' in page
    done = dispatcher.post(
        f"/console/tickets/{ticket.pk}/dispatch/", {**posted, "confirm_low": "1"}, follow=True
    )
    assert f"已派单至 {zjj.name}" in done.content.decode()
    ticket.refresh_from_db()
    assert ticket.state == "in_progress" and ticket.lead_unit == zjj


def test_a_dispatch_refused_for_its_unit_marks_the_unit(city: Any) -> None:
    """The catalogue's unit for 城乡建设 returned the ticket (退回已同意): refused on 承办单位."""
    zjj = Unit.objects.get(code="zjj")
    cxjs = Category.objects.get(code="cxjs")
    ticket, lead = dispatched(zjj, category=cxjs)
    workflow.assignment_request_return(
        assignment=lead, actor=Actor.of(staff(zjj)), reason="属于物业维修范围", legal_basis="物业管理条例"
    )
    lead.refresh_from_db()
    workflow.assignment_decide_return(
        assignment=lead, actor=Actor.of(User.objects.get(username="dispatcher1")), approve=True, reason="同意"
    )
    back = f"/tickets/{ticket.pk}/"
    refused = _dispatcher().post(
        f"/console/tickets/{ticket.pk}/dispatch/", {"category": cxjs.pk, "lead_unit": "", "back": back}, follow=True
    )
    page = refused.content.decode()
    assert "市住建局 已退回本工单" in page
    assert 'aria-invalid="true" autofocus' in _tag(page, "dsp-unit")
    assert "aria-invalid" not in _tag(page, "dsp-cat")
    assert re.search(rf'<option value="{cxjs.pk}" selected>{cxjs.name}</option>', page)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_refusals_on_the_ticket_page_keep_the_words_and_the_focus(city: Any, new_page: Any) -> None:
    ticket, lead = _asked_to_return()
    for viewport in (DESKTOP, PHONE):
        page = new_page(viewport)
        login(page, "dispatcher1")
        page.goto(f"/tickets/{ticket.pk}/")
        reason = page.locator(f"#rr-{lead.pk}")
        reason.fill(TOO_LONG)
        with page.expect_navigation():
            reason.locator("xpath=..").get_by_role("button", name="驳回").click()
        expect(page.get_by_role("status")).to_contain_text("不能超过 2000 个字符")
        reason = page.locator(f"#rr-{lead.pk}")
        expect(reason).to_be_focused()
        expect(reason).to_have_attribute("aria-invalid", "true")
        expect(reason).to_have_value(TOO_LONG)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1
        screenshot(page, "ticket-refused-reject")
    # Corrected where the cursor is, then sent: done.
    reason.fill("属于本单位职责，请继续办理")
    with page.expect_navigation():
        reason.locator("xpath=..").get_by_role("button", name="驳回").click()
    expect(page.get_by_role("status")).to_contain_text("已驳回退回申请")
    lead.refresh_from_db()
    assert lead.state != "return_requested"

    # 派单 with a category the classifier is 2 % sure of and a unit named: warned, both kept, the
    # category focused; 派单 again (the confirmation) goes to the unit named.
    unsure = _unsure()
    zjj = Unit.objects.get(code="zjj")
    page = new_page(DESKTOP)
    login(page, "dispatcher1")
    page.goto(f"/tickets/{unsure.pk}/")
    page.locator("#dsp-cat").select_option(label="劳动和社会保障（2%）")
    page.locator("#dsp-unit").select_option(label="市住建局")
    with page.expect_navigation():
        page.get_by_role("button", name="派单", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("置信度仅 2%")
    category = page.locator("#dsp-cat")
    expect(category).to_be_focused()
    expect(category).to_have_attribute("aria-invalid", "true")
    expect(category).to_have_value(str(Category.objects.get(name="劳动和社会保障").pk))
    expect(page.locator("#dsp-unit")).to_have_value(str(zjj.pk))
    expect(page.get_by_role("status")).to_contain_text("确认无误后按同一分类再次派单即为确认")
    screenshot(page, "ticket-low-confidence-dispatch")
    with page.expect_navigation():
        page.get_by_role("button", name="派单", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(f"工单 {unsure.number} 已派单至 市住建局")
    unsure.refresh_from_db()
    assert unsure.state == "in_progress" and unsure.lead_unit == zjj
