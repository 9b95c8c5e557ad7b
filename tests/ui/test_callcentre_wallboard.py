"""话务大屏 in a real browser: a supervisor's wallboard moves live (queue length per desk, operators by
state) while an operator goes 就绪, a caller queues and is bridged — signed Twilio webhooks posted to
the real ASGI app (uvicorn, WebSockets), as in tests/ui/test_callcentre_pop.py. Screenshots of the
wallboard and of the operator's seat panel during the call at 1366 and 390 px."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.ui.conftest import PHONE, SCREENSHOTS, screenshot
from tests.ui.test_callcentre_pop import CC, _twilio, cc_env  # noqa: F401  (the signed server fixture)
from tests.ui.test_live import AsgiServer, _signed_in, asgi  # noqa: F401  (the module's server fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CALLER = "CA" + "d" * 32
LEG = "CA" + "f" * 32
DESKS = """
from tickets.callcentre.models import Desk
from tickets.org.models import Unit, User
Desk.objects.get_or_create(code="general", defaults={"name": "普通话综合", "is_default": True})
Desk.objects.get_or_create(code="enterprise", defaults={"name": "企业专席", "sort": 1})
Unit.objects.filter(liaison_phone="").exclude(kind="centre").order_by("path").filter(
    pk__in=list(Unit.objects.order_by("path").values_list("pk", flat=True)[:3])
).update(liaison_name="值班联络员", liaison_phone="13700001111")
print(User.objects.get(username="operator1").pk)
"""


def _wallboard(browser: Any, server: AsgiServer, **viewport: Any) -> Any:
    page = _signed_in(browser, server.url, "supervisor1", "/board/", **viewport)  # a supervisor lands on 督办看板
    page.get_by_role("link", name="话务大屏").click()
    expect(page).to_have_url(server.url + "/board/callcentre/")
    return page


def _count(board: Any, state: str) -> Any:
    return board.locator(f'[data-testid=wallboard-seats] li[data-state="{state}"] [data-count]')


def test_the_wallboard_moves_live_as_a_call_queues_and_is_bridged(browser: Any, cc_env: AsgiServer) -> None:  # noqa: F811
    op1_id = cc_env.manage("shell", "-c", DESKS).split()[-1]
    board = _wallboard(browser, cc_env)
    expect(board.locator("body")).to_have_attribute("data-live", "on")
    expect(board.locator("#wallboard")).to_have_attribute("data-loaded", "1")
    general = board.locator('[data-testid=wallboard-desks] tr[data-desk="general"]')
    expect(general.locator("[data-waiting]")).to_have_text("0")
    expect(_count(board, "ready")).to_have_text("0")

    console = _signed_in(browser, cc_env.url, "operator1", "/console/")
    expect(console.locator("body")).to_have_attribute("data-live", "on")
    console.locator("#seat-panel").get_by_role("button", name="就绪").click()
    expect(console.get_by_test_id("seat-state")).to_have_text("就绪")
    expect(_count(board, "ready")).to_have_text("1")  # pushed, no reload

    # a caller queues on the general desk and is offered to operator1 (振铃中)
    _twilio(console, cc_env, f"{CC}/voice/", CallSid=CALLER, From="+8613812345678", To="+8612345")
    expect(general.locator("[data-waiting]")).to_have_text("1")
    expect(_count(board, "ringing")).to_have_text("1")
    expect(_count(board, "ready")).to_have_text("0")

    # operator1's leg dials the queue and the caller is bridged: the queue empties, 通话中 1
    _twilio(console, cc_env, f"{CC}/seat/?seat={op1_id}", CallSid=LEG, To=f"client:seat-{op1_id}")
    _twilio(console, cc_env, f"{CC}/bridge/", CallSid=CALLER, DequeingCallSid=LEG, QueueSid="QU" + "2" * 32,
            QueueTime="6")  # fmt: skip
    expect(general.locator("[data-waiting]")).to_have_text("0")
    expect(_count(board, "on_call")).to_have_text("1")
    expect(_count(board, "ringing")).to_have_text("0")
    expect(console.get_by_test_id("caller-panel")).to_be_visible()
    expect(console.get_by_test_id("transfer-form")).to_be_visible()
    expect(console.get_by_test_id("conference-form")).to_be_visible()

    # today's figures follow a moment later (the page re-reads them after a push)
    expect(board.locator('[data-figure="answered"]')).to_have_text("1")
    expect(board.locator('[data-figure="connection_rate"]')).to_have_text("100.0%")
    screenshot(board, "callcentre-wallboard")
    console.locator("#seat-panel").scroll_into_view_if_needed()
    console.locator("#seat-panel").screenshot(path=str(_shot("callcentre-seat", 1366)))
    # the same, on a phone: a fresh sign-in renders the call the operator is on
    small_board = _wallboard(browser, cc_env, viewport=PHONE)
    expect(small_board.locator("#wallboard")).to_have_attribute("data-loaded", "1")
    screenshot(small_board, "callcentre-wallboard")
    small_console = _signed_in(browser, cc_env.url, "operator1", "/console/", viewport=PHONE)
    expect(small_console.get_by_test_id("caller-panel")).to_be_visible()
    small_console.locator("#seat-panel").screenshot(path=str(_shot("callcentre-seat", 390)))
    # 转接 asks first, and a refusal shows its reason in the panel (nobody is signed in to 企业专席)
    console.get_by_label("转接到专席").select_option(label="企业专席")
    console.once("dialog", lambda dialog: dialog.accept())
    console.get_by_test_id("transfer-form").get_by_role("button", name="转接").click()
    expect(console.locator("#seat-panel [role=alert]")).to_have_text("该专席暂无话务员在线，无法转接")
    expect(console.get_by_test_id("caller-panel")).to_be_visible()  # still on the call
    for page in (board, console, small_board, small_console):
        page.context.close()


def _shot(name: str, width: int) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}-{width}.png"
