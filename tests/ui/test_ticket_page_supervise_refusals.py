"""不予派单 and 督办 / 挂牌督办 / 摘牌 on the ticket page post to the console's and the board's views; a
refusal came back to the ticket page with the outcome and the reason (or the 督办意见) gone, the 不予派单
form folded away and the field at fault neither marked nor focused. Kept now as the ticket page's
other centre forms are (ticket.centre_refusal). Through Django's test client; the browser check is at
the end."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from playwright.sync_api import expect

from tests.tickets.helpers import dispatched, new_ticket
from tests.ui.conftest import DESKTOP, PHONE, login, screenshot
from tickets.core.models import Ticket, TicketEvent
from tickets.messaging.models import SmsMessage
from tickets.org.models import Unit, User
from tickets.supervision.models import Supervision

TOO_LONG = "该诉求属于司法程序范围，请向人民法院反映。" * 100  # over the 2000 characters a reason may have


def _client(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def _waiting() -> Ticket:
    """Accepted, waiting for a dispatcher (the 派单 and 不予派单 forms are shown)."""
    ticket = new_ticket(auto_route=False, text="邻居家装修噪音扰民，晚上十点后仍在施工。")
    Ticket.objects.filter(pk=ticket.pk).update(state="dispatching")
    return Ticket.objects.get(pk=ticket.pk)


def _handled() -> Ticket:
    ticket, _lead = dispatched(Unit.objects.get(code="rsj"), text="单位拖欠工资三个月，多次讨要无果。")
    return ticket


def _tag(page: str, element_id: str) -> str:
    found = re.search(rf'<(?:textarea|select|input)[^>]* id="{element_id}"[^>]*>', page)
    assert found is not None, element_id
    return found.group(0)


def _unchanged(ticket: Ticket) -> tuple[Any, ...]:
    fresh = Ticket.objects.get(pk=ticket.pk)
    return (
        fresh.state,
        fresh.outcome,
        fresh.outcome_reason,
        fresh.is_flagged,
        TicketEvent.objects.filter(ticket=ticket).count(),
        Supervision.objects.filter(ticket=ticket).count(),
        SmsMessage.objects.count(),
    )


def test_a_refused_out_of_scope_on_the_ticket_page_keeps_the_outcome_and_the_reason(city: Any) -> None:
    ticket = _waiting()
    before = _unchanged(ticket)
    back = f"/tickets/{ticket.pk}/"
    dispatcher = _client("dispatcher1")
    refused = dispatcher.post(
        f"/console/tickets/{ticket.pk}/out-of-scope/",
        {"outcome": "lawful_channel", "reason": TOO_LONG, "back": back},
        follow=True,
    )
    assert refused.redirect_chain[-1][0] == back  # the page itself: a #fragment would skip the focus
    page = refused.content.decode()
    assert "不能超过 2000 个字符" in page
    assert re.search(r'<details id="out-of-scope" class="out-of-scope" open>', page)  # opened, no ?oos=1
    assert 'aria-invalid="true" autofocus' in _tag(page, "oos-reason") and f">{TOO_LONG}</textarea>" in page
    assert "aria-invalid" not in _tag(page, "oos-outcome")
    assert '<option value="lawful_channel" selected>告知途径</option>' in page
    assert _unchanged(ticket) == before
    # Shown once: the next visit is the plain page, folded.
    again = dispatcher.get(back).content.decode()
    assert TOO_LONG not in again and '<details id="out-of-scope" class="out-of-scope">' in again


def test_an_out_of_scope_without_an_outcome_marks_the_outcome(city: Any) -> None:
    ticket = _waiting()
    before = _unchanged(ticket)
    refused = _client("dispatcher1").post(
        f"/console/tickets/{ticket.pk}/out-of-scope/",
        {"outcome": "", "reason": "请向区法院立案庭咨询", "back": f"/tickets/{ticket.pk}/"},
        follow=True,
    )
    page = refused.content.decode()
    assert "请选择不予派单的结果" in page
    assert 'aria-invalid="true" autofocus' in _tag(page, "oos-outcome")
    assert "aria-invalid" not in _tag(page, "oos-reason") and ">请向区法院立案庭咨询</textarea>" in page
    assert _unchanged(ticket) == before


@pytest.mark.parametrize("action", ["supervise", "flag"])
def test_a_refused_supervision_on_the_ticket_page_keeps_the_words(city: Any, action: str) -> None:
    ticket = _handled()
    before = _unchanged(ticket)
    back = f"/tickets/{ticket.pk}/"
    refused = _client("supervisor1").post(
        f"/board/tickets/{ticket.pk}/{action}/", {"reason": TOO_LONG, "back": back}, follow=True
    )
    assert refused.redirect_chain[-1][0] == back
    page = refused.content.decode()
    assert "不能超过 2000 个字符" in page
    box = _tag(page, "sv-reason")
    assert 'aria-invalid="true" autofocus' in box and f'value="{TOO_LONG}"' in box
    assert _unchanged(ticket) == before


def test_a_refused_unflag_keeps_the_reason(city: Any) -> None:
    """摘牌 from a page opened before someone else took the flag down: refused, the reason kept."""
    ticket = _handled()
    before = _unchanged(ticket)
    refused = _client("supervisor1").post(
        f"/board/tickets/{ticket.pk}/unflag/", {"reason": "已按期办理", "back": f"/tickets/{ticket.pk}/"}, follow=True
    )
    page = refused.content.decode()
    assert "该工单未挂牌督办" in page
    assert 'aria-invalid="true" autofocus' in _tag(page, "sv-reason") and 'value="已按期办理"' in page
    assert _unchanged(ticket) == before


def test_the_board_is_unchanged_and_keeps_nothing_for_the_ticket_page(city: Any) -> None:
    ticket = _handled()
    supervisor = _client("supervisor1")
    refused = supervisor.post(f"/board/tickets/{ticket.pk}/supervise/", {"reason": TOO_LONG})
    assert refused.status_code == 302 and refused["Location"] == "/board/"
    page = supervisor.get(f"/tickets/{ticket.pk}/").content.decode()
    assert TOO_LONG not in page and "aria-invalid" not in _tag(page, "sv-reason")


def test_a_back_that_is_not_a_ticket_page_keeps_nothing(city: Any) -> None:
    """Followed back_or's rule: the form is kept only where the redirect goes."""
    ticket = _waiting()
    dispatcher = _client("dispatcher1")
    refused = dispatcher.post(
        f"/console/tickets/{ticket.pk}/out-of-scope/",
        {"outcome": "", "reason": TOO_LONG, "back": "https://evil.example/"},
    )
    assert refused["Location"] == "/console/"
    assert TOO_LONG not in dispatcher.get(f"/tickets/{ticket.pk}/").content.decode()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_refused_out_of_scope_and_supervision_keep_the_words_and_the_focus(city: Any, new_page: Any) -> None:
    waiting, handled = _waiting(), _handled()
    for viewport in (DESKTOP, PHONE):
        # 不予派单 opened from the queue's link (?oos=1#out-of-scope), a reason too long: back open,
        # the outcome and the reason kept, the reason focused.
        page = new_page(viewport)
        login(page, "dispatcher1")
        page.goto(f"/tickets/{waiting.pk}/?oos=1#out-of-scope")
        page.locator("#oos-outcome").select_option(label="告知途径")
        page.locator("#oos-reason").fill(TOO_LONG)
        with page.expect_navigation():
            page.get_by_role("button", name="不予派单并办结").click()
        assert page.url.endswith(f"/tickets/{waiting.pk}/")
        expect(page.get_by_role("status")).to_contain_text("不能超过 2000 个字符")
        reason = page.locator("#oos-reason")
        expect(reason).to_be_focused()
        assert page.evaluate("document.activeElement.id") == "oos-reason"
        expect(reason).to_have_attribute("aria-invalid", "true")
        expect(reason).to_have_value(TOO_LONG)
        expect(page.locator("#oos-outcome")).to_have_value("lawful_channel")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1
        screenshot(page, "ticket-refused-out-of-scope")

        # 挂牌督办 with a reason too long: the words kept, the field focused.
        page = new_page(viewport)
        login(page, "supervisor1")
        page.goto(f"/tickets/{handled.pk}/")
        page.locator("#sv-reason").fill(TOO_LONG)
        with page.expect_navigation():
            page.get_by_role("button", name="挂牌督办").click()
        expect(page.get_by_role("status")).to_contain_text("不能超过 2000 个字符")
        words = page.locator("#sv-reason")
        expect(words).to_be_focused()
        assert page.evaluate("document.activeElement.id") == "sv-reason"
        expect(words).to_have_attribute("aria-invalid", "true")
        expect(words).to_have_value(TOO_LONG)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1
        screenshot(page, "ticket-refused-supervise")

    # Corrected where the cursor is, then sent: done.
    words.fill("群众反映强烈，请加快办理")
    with page.expect_navigation():
        page.get_by_role("button", name="挂牌督办").click()
    expect(page.get_by_role("status")).to_contain_text(f"工单 {handled.number} 已挂牌督办")
    assert Ticket.objects.get(pk=handled.pk).is_flagged
