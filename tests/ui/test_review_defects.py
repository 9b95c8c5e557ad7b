"""Issue 16, defect 2: 不满意审核 can decide, and the citizen reads one consistent state.

A citizen's own 不满意 arrives 未判定. The supervisor's page offers 主观/客观 with the ruling; a
refused try (客观 + 重办) keeps what was typed; 重办 and 说明办结 work once decided. The citizen's
status page does not say 已办结 while their 不满意 is under review.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.ui.conftest import DESKTOP, PHONE, login, screenshot
from tests.ui.test_board_console import _in_rating
from tickets.core.actors import Actor
from tickets.core.models import Ticket
from tickets.feedback.models import Rating
from tickets.feedback.services import rating

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _dissatisfied(text: str, phone: str) -> Ticket:
    """The citizen rates 不满意 on the web: no cause (未判定), a reason in their words."""
    ticket = _in_rating(text, phone=phone)
    rating.rating_record(
        ticket=ticket,
        actor=Actor.citizen(),
        channel="web",
        satisfaction="dissatisfied",
        solved=False,
        contacted=False,
        comment="根本没人联系我",
    )
    return ticket


def _citizen_status(page: Any, ticket: Ticket, phone: str) -> Any:
    page.goto("/citizen/status/")
    page.get_by_label("工单号").fill(ticket.number)
    page.get_by_label("手机号后四位").fill(phone[-4:])
    page.get_by_role("button", name="查询").click()
    return page.locator("section.card")


def test_supervisor_judges_the_cause_and_reopens_and_the_citizen_sees_a_consistent_state(
    city: Any, new_page: Any
) -> None:
    ticket = _dissatisfied("单位不给缴社保，投诉了也没用", "13911112222")
    assert Rating.objects.get(ticket=ticket).cause == "undetermined"

    citizen = new_page(PHONE)
    card = _citizen_status(citizen, ticket, "13911112222")
    expect(card.get_by_test_id("state")).to_have_text("不满意意见审核中")  # not 已办结
    expect(card).to_contain_text("您的意见已转交督办人员审核")
    expect(card).not_to_contain_text("工单已办结")
    screenshot(citizen, "citizen-status")
    citizen.set_viewport_size(DESKTOP)
    screenshot(citizen, "citizen-status")

    page = new_page()
    login(page, "supervisor1")
    page.goto("/board/ratings/")
    box = page.locator(f"#rating-{Rating.objects.get(ticket=ticket).pk}")
    box.get_by_role("radio", name="客观原因").check()
    box.get_by_label("处理理由（必填）").fill("单位未联系市民，重办")
    box.get_by_role("button", name="重办").click()  # 客观 + 重办: refused, nothing lost
    expect(page.get_by_role("status")).to_contain_text("客观原因造成的不满意不能重办")
    box = page.locator(f"#rating-{Rating.objects.get(ticket=ticket).pk}")
    expect(box.get_by_label("处理理由（必填）")).to_have_value("单位未联系市民，重办")
    expect(box.get_by_role("radio", name="客观原因")).to_be_checked()
    screenshot(page, "board-ratings-refused")

    box.get_by_role("radio", name="承办单位主观原因").check()
    box.get_by_role("button", name="重办").click()
    expect(page.get_by_role("status")).to_contain_text(f"工单 {ticket.number} 已决定重办")
    decided = Rating.objects.get(ticket=ticket)
    assert (decided.review, decided.cause) == ("reopened", "subjective")
    ticket.refresh_from_db()
    assert ticket.state == "in_progress"

    card = _citizen_status(citizen, ticket, "13911112222")
    expect(card.get_by_test_id("state")).to_have_text("办理中")
    expect(card).to_contain_text("重新交办承办单位办理")


def test_supervisor_closes_an_objective_dissatisfaction_with_an_explanation(city: Any, new_page: Any) -> None:
    ticket = _dissatisfied("小区门口道路积水一直没修好", "13922223333")
    page = new_page()
    login(page, "supervisor1")
    page.goto("/board/ratings/")
    box = page.locator(f"#rating-{Rating.objects.get(ticket=ticket).pk}")
    screenshot(page, "board-ratings")
    box.get_by_role("radio", name="客观原因").check()
    box.get_by_label("处理理由（必填）").fill("道路改造已列入明年计划，已向市民说明")
    box.get_by_role("button", name="说明办结").click()
    expect(page.get_by_role("status")).to_contain_text(f"工单 {ticket.number} 已说明办结")
    page.set_viewport_size(PHONE)
    screenshot(page, "board-ratings")
    decided = Rating.objects.get(ticket=ticket)
    assert (decided.review, decided.cause) == ("closed", "objective")

    citizen = new_page(PHONE)
    card = _citizen_status(citizen, ticket, "13922223333")
    expect(card.get_by_test_id("state")).to_have_text("已办结")
    expect(card).to_contain_text("督办人员已核查您的不满意意见")
