"""督办 / 挂牌督办 / 摘牌 refused on the 督办看板 itself: the supervisor's 督办意见 was gone after the
redirect and the cursor nowhere. Kept now as the ticket page keeps it, in one row of the board even
when the ticket stands in two sections. On the board a refusal names its ticket (the board holds one
form per ticket); on the ticket page, whose heading names it, the reason stands alone. Through
Django's test client; the browser check is at the end."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from tests.tickets.helpers import dispatched
from tests.ui.conftest import DESKTOP, PHONE, login, screenshot
from tickets.core.models import Ticket, TicketEvent
from tickets.org.models import Unit, User
from tickets.supervision.models import Supervision

TOO_LONG = "群众多次来电反映，至今未见处理，请承办单位立即核实并限期答复。" * 80  # over 2000 characters


def _supervisor() -> Client:
    client = Client()
    client.force_login(User.objects.get(username="supervisor1"))
    return client


def _overdue_and_flagged() -> Ticket:
    """On the board twice: in 已超期 and in 问题工单与挂牌督办."""
    ticket, _lead = dispatched(Unit.objects.get(code="rsj"), text="单位拖欠工资三个月，多次讨要无果。")
    Ticket.objects.filter(pk=ticket.pk).update(is_flagged=True, due_at=timezone.now() - timedelta(hours=5))
    return Ticket.objects.get(pk=ticket.pk)


def _boxes(page: str, ticket: Ticket) -> list[str]:
    return re.findall(rf'<input type="text" name="reason" id="sv-[a-z_]+-{ticket.pk}"[^>]*>', page)


def _unchanged(ticket: Ticket) -> tuple[Any, ...]:
    fresh = Ticket.objects.get(pk=ticket.pk)
    return (
        fresh.is_flagged,
        TicketEvent.objects.filter(ticket=ticket).count(),
        Supervision.objects.filter(ticket=ticket).count(),
    )


def test_a_refused_supervision_on_the_board_keeps_the_words_in_one_row(city: Any) -> None:
    ticket = _overdue_and_flagged()
    before = _unchanged(ticket)
    supervisor = _supervisor()
    refused = supervisor.post(f"/board/tickets/{ticket.pk}/supervise/", {"reason": TOO_LONG}, follow=True)
    assert refused.redirect_chain[-1][0] == "/board/"
    page = refused.content.decode()
    assert f"工单 {ticket.number}：" in page and "不能超过 2000 个字符" in page
    boxes = _boxes(page, ticket)
    assert len(boxes) == 2  # both sections show the ticket's form
    kept = [box for box in boxes if f'value="{TOO_LONG}"' in box]
    assert len(kept) == 1 and 'aria-invalid="true" autofocus' in kept[0]
    assert sum("aria-invalid" in box for box in boxes) == 1
    assert _unchanged(ticket) == before
    # Shown once: the next visit is the plain board.
    again = supervisor.get("/board/").content.decode()
    assert TOO_LONG not in again and "aria-invalid" not in "".join(_boxes(again, ticket))


def test_a_flag_refused_on_the_board_keeps_the_reason(city: Any) -> None:
    """挂牌督办 from a board opened before someone else flagged the ticket: refused, the reason kept."""
    ticket = _overdue_and_flagged()
    before = _unchanged(ticket)
    page = _supervisor().post(f"/board/tickets/{ticket.pk}/flag/", {"reason": "超期未办"}, follow=True)
    text = page.content.decode()
    assert f"工单 {ticket.number}：该工单已挂牌督办" in text
    assert any('value="超期未办"' in box and 'aria-invalid="true"' in box for box in _boxes(text, ticket))
    assert _unchanged(ticket) == before


def test_the_ticket_page_gives_the_reason_without_the_number(city: Any) -> None:
    ticket = _overdue_and_flagged()
    page = _supervisor().post(
        f"/board/tickets/{ticket.pk}/flag/", {"reason": "超期未办", "back": f"/tickets/{ticket.pk}/"}, follow=True
    )
    text = page.content.decode()
    assert "该工单已挂牌督办" in text and f"工单 {ticket.number}：" not in text


def test_a_refusal_for_a_ticket_gone_from_the_board_keeps_no_form(city: Any) -> None:
    """The words belong to one ticket: another ticket's row never shows them."""
    ticket = _overdue_and_flagged()
    other, _lead = dispatched(Unit.objects.get(code="rsj"), text="小区路灯损坏一个月无人修。")
    Ticket.objects.filter(pk=other.pk).update(is_flagged=True)
    Ticket.objects.filter(pk=ticket.pk).update(due_at=timezone.now() + timedelta(days=9), is_flagged=False)
    page = _supervisor().post(f"/board/tickets/{ticket.pk}/unflag/", {"reason": "已按期办理"}, follow=True)
    text = page.content.decode()
    assert "该工单未挂牌督办" in text
    assert 'value="已按期办理"' not in text and "aria-invalid" not in text


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_refused_supervision_on_the_board_keeps_the_words_and_the_focus(city: Any, new_page: Any) -> None:
    ticket = _overdue_and_flagged()
    for viewport in (DESKTOP, PHONE):
        page = new_page(viewport)
        login(page, "supervisor1")
        page.goto("/board/")
        words = page.locator(f"#sv-overdue-{ticket.pk}")
        words.fill(TOO_LONG)
        with page.expect_navigation():
            page.get_by_test_id(f"supervise-{ticket.number}").first.get_by_role("button", name="督办").click()
        expect(page.get_by_role("status")).to_contain_text(f"工单 {ticket.number}：")
        expect(words).to_be_focused()
        expect(words).to_have_attribute("aria-invalid", "true")
        expect(words).to_have_value(TOO_LONG)
        expect(page.locator(f"#sv-problem-{ticket.pk}")).to_have_value("")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1
        screenshot(page, "board-refused-supervise")

    # Corrected where the cursor is, then sent: done.
    words.fill("群众反映强烈，请加快办理")
    with page.expect_navigation():
        page.get_by_test_id(f"supervise-{ticket.number}").first.get_by_role("button", name="督办").click()
    expect(page.get_by_role("status")).to_contain_text(f"工单 {ticket.number} 已发出督办")
    assert Supervision.objects.filter(ticket=ticket, note="群众反映强烈，请加快办理").exists()
