"""待派单, a category the classifier is under 20 % sure of: 派单 asks to confirm, and the row shows a
「确认按…派单」 button. That button posted the category alone, so a 承办单位 the dispatcher had chosen
in the row was dropped and the confirmed ticket went where the routing catalogue said (市人社局 for
劳动和社会保障), not to the unit chosen."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from django.test import Client
from playwright.sync_api import expect

from tests.tickets.helpers import new_ticket
from tests.ui.conftest import DESKTOP, PHONE, login, screenshot
from tickets.core.models import Ticket
from tickets.org.models import Category, Unit, User


def _unsure() -> Ticket:
    ticket = new_ticket(auto_route=False, text="我想反映一下那个事情，具体也说不清楚")
    labour = Category.objects.get(name="劳动和社会保障")
    suggestions = [{"label": labour.name, "probability": 0.02, "category": labour.pk}]
    Ticket.objects.filter(pk=ticket.pk).update(state="dispatching", classification={"suggestions": suggestions})
    return ticket


def _confirm_form(queue: str, ticket: Ticket) -> dict[str, str]:
    """The fields the row's 「确认按…派单」 form posts, read from the panel as a browser would."""
    form = re.search(rf'<form [^>]*data-testid="low-confirm-{ticket.pk}">(.*?)</form>', queue, re.S)
    assert form is not None, queue
    fields = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form.group(1))
    return {name: unescape(value) for name, value in fields if name != "csrfmiddlewaretoken"}


def test_the_confirm_button_dispatches_to_the_unit_chosen_with_the_category(city: Any) -> None:
    ticket = _unsure()
    labour = Category.objects.get(name="劳动和社会保障")
    zjj = Unit.objects.get(code="zjj")
    dispatcher = Client()
    dispatcher.force_login(User.objects.get(username="dispatcher1"))
    warned = dispatcher.post(f"/console/tickets/{ticket.pk}/dispatch/", {"category": labour.pk, "lead_unit": zjj.pk})
    assert warned["Location"] == "/console/"
    assert Ticket.objects.get(pk=ticket.pk).state == "dispatching"

    queue = dispatcher.get("/console/panels/queue/").content.decode()  # later: a refresh, no kept form
    assert "承办单位：市住建局（人工指定）" in queue  # the confirmation says where it goes
    assert re.search(rf'<option value="{zjj.pk}" selected>市住建局</option>', queue)  # the row agrees
    fields = _confirm_form(queue, ticket)
    assert fields == {"category": str(labour.pk), "confirm_low": "1", "lead_unit": str(zjj.pk)}
    done = dispatcher.post(f"/console/tickets/{ticket.pk}/dispatch/", fields, follow=True)
    assert f"工单 {ticket.number} 已派单至 市住建局" in done.content.decode()
    ticket.refresh_from_db()
    assert ticket.state == "in_progress" and ticket.lead_unit == zjj  # not 市人社局, the catalogue's


def test_without_a_unit_chosen_the_confirm_still_goes_by_the_catalogue(city: Any) -> None:
    ticket = _unsure()
    labour = Category.objects.get(name="劳动和社会保障")
    dispatcher = Client()
    dispatcher.force_login(User.objects.get(username="dispatcher1"))
    dispatcher.post(f"/console/tickets/{ticket.pk}/dispatch/", {"category": labour.pk, "lead_unit": ""})
    queue = dispatcher.get("/console/panels/queue/").content.decode()
    fields = _confirm_form(queue, ticket)
    assert fields == {"category": str(labour.pk), "confirm_low": "1"} and "人工指定" not in queue
    dispatcher.post(f"/console/tickets/{ticket.pk}/dispatch/", fields)
    ticket.refresh_from_db()
    assert ticket.lead_unit == Unit.objects.get(code="rsj")


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_confirming_in_the_browser_goes_to_the_unit_chosen(city: Any, new_page: Any) -> None:
    ticket = _unsure()
    page = new_page(DESKTOP)
    login(page, "dispatcher1")
    row = page.locator(f"#queue-{ticket.pk}")
    row.get_by_label("承办单位").select_option(label="市住建局")
    with page.expect_navigation():
        row.get_by_role("button", name="派单", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("置信度仅 2%")
    confirm = page.get_by_test_id(f"low-confirm-{ticket.pk}")
    expect(confirm).to_contain_text("承办单位：市住建局（人工指定）")
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        confirm.scroll_into_view_if_needed()
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1
        screenshot(page, "console-low-confirm-unit")
    page.set_viewport_size(DESKTOP)
    with page.expect_navigation():
        confirm.get_by_role("button", name="确认按“劳动和社会保障”派单").click()
    expect(page.get_by_role("status")).to_contain_text(f"工单 {ticket.number} 已派单至 市住建局")
    ticket.refresh_from_db()
    assert ticket.state == "in_progress" and ticket.lead_unit == Unit.objects.get(code="zjj")
