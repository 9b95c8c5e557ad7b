"""Issue 16, defect 7 (live parts), on the real ASGI server (HTTP and WebSocket, see test_live.py):

- a new ticket arriving in a unit's inbox is noticed: highlighted row, count, title badge;
- a dropped live connection is visible, and a submit while the server is down keeps the text.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.ui.conftest import PHONE, screenshot
from tests.ui.test_live import AsgiServer, _operator_console, _signed_in, asgi  # noqa: F401 (the server fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

RECONNECT_MS = 45_000  # the socket retries with a doubling back-off (1 s, 2 s, 4 s, …)


def _register_and_dispatch(operator: Any, text: str, phone: str) -> str:
    operator.get_by_label("诉求内容").fill(text)
    operator.get_by_label("来电号码").fill(phone)
    with operator.expect_navigation():
        operator.get_by_role("button", name="受理（Enter）").click()
    found = re.search(r"工单号 (\d+)", operator.get_by_role("status").inner_text())
    assert found is not None
    number = found.group(1)
    row = operator.locator("#panel-queue tr", has_text=number)
    row.get_by_label("其他分类").select_option(label="劳动和社会保障")
    with operator.expect_navigation():
        row.get_by_role("button", name="派单", exact=True).click()
    expect(operator.get_by_role("status")).to_contain_text(f"工单 {number} 已派单至 市人社局")  # names the unit
    return number


def test_a_new_ticket_in_the_unit_inbox_is_highlighted_counted_and_in_the_title(
    browser: Any,
    asgi: AsgiServer,  # noqa: F811
) -> None:
    asgi_url = asgi.url
    clerk = _signed_in(browser, asgi_url, "rsj_staff", "/unit/")
    expect(clerk.locator("body")).to_have_attribute("data-live", "on")
    expect(clerk.get_by_test_id("new-arrivals")).to_be_hidden()
    title = clerk.title()
    operator = _operator_console(browser, asgi_url)
    number = _register_and_dispatch(operator, "公司拖欠工资三个月，老板说下个月再发", "13900083352")

    row = clerk.get_by_test_id(f"inbox-row-{number}")
    expect(row).to_be_visible()  # no reload: the live feed refreshed the inbox
    expect(row).to_have_class(re.compile(r"\brow-new\b"))
    expect(clerk.get_by_test_id("new-arrivals")).to_contain_text("新到工单 1 件")
    expect(clerk).to_have_title(f"(1) {title}")
    screenshot(clerk, "unit-inbox-new")
    clerk.set_viewport_size(PHONE)
    screenshot(clerk, "unit-inbox-new")
    clerk.get_by_role("button", name="知道了").click()
    expect(clerk.get_by_test_id("new-arrivals")).to_be_hidden()
    expect(clerk).to_have_title(title)
    expect(row).not_to_have_class(re.compile(r"\brow-new\b"))
    clerk.context.close()
    operator.context.close()


def test_a_dropped_connection_is_visible_and_a_submit_during_the_outage_keeps_the_text(
    browser: Any,
    asgi: AsgiServer,  # noqa: F811
) -> None:
    operator = _operator_console(browser, asgi.url)
    expect(operator.locator("body")).to_have_attribute("data-live", "on")
    expect(operator.get_by_test_id("live-status")).to_have_count(0)
    asgi.stop()
    try:
        status = operator.get_by_test_id("live-status")
        expect(status).to_contain_text("实时连接已断开")
        screenshot(operator, "console-offline")
        text = "小区门口的路灯坏了一个多星期，晚上出行很不安全"
        operator.get_by_label("诉求内容").fill(text)
        operator.get_by_label("来电号码").fill("13700001111")
        operator.get_by_label("地址").fill("东湖区新华街道幸福路9号")
        operator.get_by_label("地址").press("Enter")  # the server is down
        expect(operator.get_by_test_id("form-alert")).to_contain_text("工单尚未提交")
        expect(operator.get_by_label("诉求内容")).to_have_value(text)  # still on the page, nothing lost
        assert operator.url.endswith("/console/")
    finally:
        asgi.start()
    expect(operator.locator("body")).to_have_attribute("data-live", "on", timeout=RECONNECT_MS)
    with operator.expect_navigation():
        operator.get_by_label("地址").press("Enter")
    expect(operator.get_by_role("status")).to_contain_text("已受理")
    operator.context.close()
