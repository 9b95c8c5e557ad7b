"""知识库直接答复 of a 投诉 or 举报 in the console: the confirmation panel asks the operator to tick that
this one is answered without dispatch (按责转办 is the rule for complaints and reports, domain.md §3).

The box shows only for those kinds; the browser will not send the answer unticked; a refusal from the
server (the box left out) keeps the form as typed; the ticked answer closes the ticket and its
event records the confirmation. A 咨询 is answered as before, with no box.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.ui.conftest import PHONE, login, screenshot
from tests.ui.test_console_defects import NOISE_ANSWER, _noise_article
from tickets.core.models import Ticket
from tickets.knowledge.models import KbArticle
from tickets.knowledge.services import articles

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SCREEN = {"width": 1366, "height": 900}
TEXT = "投诉工地夜间建筑施工噪声扰民，晚上十二点还在施工"
BUTTON = "以知识库“夜间建筑施工噪声有什么规定？”直接答复（需确认）"
BOX = "确认本件确需直接答复，不转办（记入工单历史）"


def _call(page: Any, kind: str) -> Any:
    page.get_by_label("诉求类型").select_option(label=kind)
    page.get_by_label("诉求内容").fill(TEXT)
    page.get_by_label("来电号码").fill("13900083352")
    page.get_by_test_id("kb-hits").get_by_role("button", name=BUTTON).click()
    dialog = page.get_by_test_id("kb-confirm")
    expect(dialog).to_be_visible()
    return dialog


def test_a_complaint_is_answered_from_the_kb_only_when_the_operator_ticks_the_box(city: Any, new_page: Any) -> None:
    article = _noise_article()
    page = new_page(SCREEN)
    login(page, "operator1")
    dialog = _call(page, "投诉")
    panel = dialog.get_by_test_id("kb-kind-confirm")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("投诉、举报类诉求一般应转办承办单位")
    box = dialog.get_by_label(BOX)
    expect(box).not_to_be_checked()
    screenshot(page, "console-kb-confirm-complaint")

    # Unticked: the browser holds the answer back at the box; nothing is stored.
    dialog.get_by_role("button", name="确认答复并办结").click()
    expect(dialog).to_be_visible()
    assert box.evaluate("el => el.validity.valueMissing") is True
    assert not Ticket.objects.exists()

    # Sent unticked anyway (an out-of-date page, no script): the server refuses, the form comes back as typed.
    box.evaluate("el => { el.required = false; }")
    with page.expect_navigation():
        dialog.get_by_role("button", name="确认答复并办结").click()
    expect(page.get_by_role("status")).to_contain_text("投诉、举报类诉求一般应转办承办单位；确需直接答复的，请勾选确认")
    expect(page.get_by_label("诉求内容")).to_have_value(TEXT)
    expect(page.get_by_label("诉求类型")).to_have_value("complaint")
    expect(page.get_by_label("来电号码")).to_have_value("13900083352")
    assert not Ticket.objects.exists() and KbArticle.objects.get(pk=article.pk).usage_count == 0

    # Ticked: answered and closed, the confirmation on the record.
    page.get_by_test_id("kb-hits").get_by_role("button", name=BUTTON).click()
    expect(dialog).to_be_visible()
    expect(box).not_to_be_checked()  # each opening asks again
    box.check()
    with page.expect_navigation():
        dialog.get_by_role("button", name="确认答复并办结").click()
    expect(page.get_by_role("status")).to_contain_text("已按知识库直接答复并办结")
    ticket = Ticket.objects.get()
    assert ticket.state == "answered_directly" and ticket.kind == "complaint"
    assert ticket.events.get(action="answer_directly").data == {"article": article.pk, "confirm_kind": True}
    articles.kb_index_invalidate()


def test_a_consultation_shows_no_box_and_a_cancelled_complaint_does_not_block_the_call(
    city: Any, new_page: Any
) -> None:
    article = _noise_article()
    page = new_page(PHONE)
    login(page, "operator1")
    dialog = _call(page, "投诉")
    expect(dialog.get_by_test_id("kb-kind-confirm")).to_be_visible()
    screenshot(page, "console-kb-confirm-complaint")
    dialog.get_by_role("button", name="取消，返回表单").click()
    expect(dialog).to_be_hidden()

    page.get_by_label("诉求类型").select_option(label="咨询")
    page.get_by_test_id("kb-hits").get_by_role("button", name=BUTTON).click()
    expect(dialog).to_be_visible()
    expect(dialog.get_by_test_id("kb-kind-confirm")).to_be_hidden()
    expect(dialog).to_contain_text(NOISE_ANSWER)
    with page.expect_navigation():
        dialog.get_by_role("button", name="确认答复并办结").click()
    expect(page.get_by_role("status")).to_contain_text("已按知识库直接答复并办结")
    ticket = Ticket.objects.get()
    assert ticket.state == "answered_directly" and ticket.kind == "consult"
    assert ticket.events.get(action="answer_directly").data == {"article": article.pk}
    articles.kb_index_invalidate()


def test_enter_registers_a_complaint_after_the_confirmation_was_cancelled(city: Any, new_page: Any) -> None:
    _noise_article()
    page = new_page(SCREEN)
    login(page, "operator1")
    dialog = _call(page, "投诉")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    with page.expect_navigation():
        page.get_by_label("来电号码").press("Enter")
    expect(page.get_by_role("status")).to_contain_text("已受理")
    ticket = Ticket.objects.get()
    assert ticket.kind == "complaint" and ticket.state != "answered_directly"
    articles.kb_index_invalidate()
