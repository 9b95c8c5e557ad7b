"""热点与未诉先办 in a real browser: clusters with their trend, and a surge alert arriving live.

The live feed needs the ASGI app (WebSocket), so this runs the same uvicorn subprocess as
tests/ui/test_live.py. A burst of 停水 calls is filed through the server's shell (another process:
its own writes are not pushed), then a supervisor's 立即检测激增 runs the surge scan inside the
server, and the page a second supervisor has open shows the alert without a reload.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.ui.conftest import PHONE, screenshot
from tests.ui.test_live import _signed_in, asgi  # noqa: F401 - the module-scoped server fixture

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BURST = """
from tickets.core.actors import Actor
from tickets.intake.services import intake
from tickets.org.models import Unit, User
operator = Actor.of(User.objects.get(username="operator1"))
xinhua = Unit.objects.get(code="donghu-xinhua")
texts = [  # as tests/kb/test_hotspots.py's planted surge
    "光明小区{n}栋停水了，从昨晚开始没有自来水，请水务部门尽快抢修",
    "新华街道光明小区{n}栋自来水停了，昨晚到现在一直停水，什么时候恢复供水",
    "光明小区停水昨晚了，{n}栋住户没有水做饭，请尽快恢复供水",
]
for i in range(8):
    intake.ticket_create(actor=operator, channel="phone", text=texts[i % 3].format(n=i + 1),
                         jurisdiction=xinhua, auto_route=False, notify=False)
for i in range(3):
    intake.ticket_create(actor=operator, channel="phone", text=f"南门街道{i}号楼下垃圾桶几天没有清运，气味很大",
                         auto_route=False, notify=False)
"""


def test_hotspot_page_shows_clusters_and_receives_a_surge_alert_live(browser: Any, asgi: Any) -> None:  # noqa: F811
    watcher = _signed_in(browser, asgi.url, "supervisor1", "/board/")
    watcher.goto("/board/hotspots/")
    expect(watcher.locator("body")).to_have_attribute("data-live", "on")
    expect(watcher.get_by_test_id("no-surge")).to_be_visible()

    asgi.manage("shell", "-c", BURST)
    scanner = _signed_in(browser, asgi.url, "admin", "/")
    scanner.goto("/board/hotspots/")
    today = scanner.get_by_test_id("hotspots-today")
    expect(today).to_contain_text("停水")  # the burst is today's top cluster, with its place
    expect(today.locator("tbody tr").first).to_contain_text("新出现")
    scanner.get_by_role("button", name="立即检测激增").click()
    expect(scanner.get_by_role("status")).to_contain_text("发现 1 个激增热点")

    # No reload on the watcher: the hotspot.surge event re-fetches the alert list.
    alerts = watcher.get_by_test_id("surge-alerts")
    expect(alerts).to_contain_text("光明", timeout=15_000)
    expect(alerts).to_contain_text(re.compile(r"24 小时内 [5-8] 件"))
    assert watcher.title().startswith("⚠")
    watcher.reload()
    expect(watcher.get_by_test_id("monthly")).to_contain_text("光明")  # a 每月一题 candidate
    watcher.get_by_test_id("hotspots-today").get_by_text(re.compile(r"查看 \d+ 件工单")).first.click()
    expect(watcher.get_by_test_id("hotspots-today").get_by_role("link").first).to_be_visible()
    screenshot(watcher, "hotspots")

    phone = _signed_in(browser, asgi.url, "supervisor1", "/board/", viewport=PHONE)
    phone.goto("/board/hotspots/")
    expect(phone.get_by_test_id("surge-alerts")).to_contain_text("光明")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 392
    screenshot(phone, "hotspots")
    for page in (watcher, scanner, phone):
        page.context.close()
