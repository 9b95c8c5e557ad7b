"""The live feed in a real browser: one operator's console shows another's new ticket without a reload.

pytest-django's live_server speaks WSGI only, so this test runs the real ASGI app (uvicorn, HTTP and
WebSocket on one port) in a subprocess with its own SQLite file and the in-memory channel layer —
the embedded set-up `scripts/start.sh` uses — and talks to it only through the browser.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.readiness import free_port, wait_http_ready
from tests.ui.conftest import BROWSER_TIMEOUT_MS, DESKTOP, PASSWORD, PHONE, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
QUIET = ("--log-level", "warning")
SETUP = f"""
PASSWORD = "{PASSWORD}"
from django.contrib.auth.hashers import make_password
from django.test import override_settings
from tickets.demo import seed
from tickets.org.models import User
from tickets.sla.services import policy as sla
from tickets.sla.services.calendar import calendar_seed_from_package
calendar_seed_from_package()
sla.profile_ensure_default()
with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
    units = seed.seed_units(); cats = seed.seed_categories(); seed.seed_routing(units, cats); seed.seed_users(units)
User.objects.update(password=make_password(PASSWORD))  # the server's own hasher
"""


class AsgiServer:
    """uvicorn serving hotline.asgi on a free port; can be stopped and started again on the same data."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "hotline.asgi:application", "--port", str(self.port), *QUIET],
            cwd=ROOT,
            env=self.env,
        )
        wait_http_ready(self.url, self.process)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=self.env, check=True, capture_output=True
        )
        return done.stdout.decode()


def server_env(var: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(
        HOTLINE_VAR_DIR=str(var),
        CLASSIFIER_MODEL_DIR=str(var / "no-model"),
        HOTLINE_EMBEDDED_SCHEDULER="0",
        HOTLINE_TWILIO_ALLOW_UNSIGNED="1",
        HOTLINE_DEMO_SHOW_SECRETS="1",  # as start.sh's embedded demo: the citizen's code is read from the outbox
        # Every page of these tests signs in from 127.0.0.1: the per-address login limit (10/min, tested
        # in tests/security) would refuse a module's worth of sign-ins made within one minute.
        HOTLINE_RATE_LOGIN="600/min",
        DJANGO_SETTINGS_MODULE="hotline.settings",
    )
    return env


@pytest.fixture(scope="module")
def asgi(tmp_path_factory: pytest.TempPathFactory, _seeded_var: Path) -> Iterator[AsgiServer]:
    var = tmp_path_factory.mktemp("asgi-var")
    shutil.copytree(_seeded_var, var, dirs_exist_ok=True)
    server = AsgiServer(server_env(var))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def asgi_url(asgi: AsgiServer) -> str:
    return asgi.url


def _signed_in(browser: Any, url: str, username: str, home: str, viewport: dict[str, int] = DESKTOP) -> Any:
    context = browser.new_context(viewport=viewport, locale="zh-CN", base_url=url)
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    page = context.new_page()
    page.goto("/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(home + "$"))
    return page


def _operator_console(browser: Any, url: str) -> Any:
    return _signed_in(browser, url, "operator1", "/console/")


def test_new_ticket_appears_live_on_another_console(browser: Any, asgi_url: str) -> None:
    watcher = _operator_console(browser, asgi_url)
    expect(watcher.locator("body")).to_have_attribute("data-live", "on")  # the socket is open
    before = watcher.get_by_test_id("live-list").inner_text()

    typist = _operator_console(browser, asgi_url)
    typist.get_by_label("诉求内容").fill("楼下餐馆油烟很大，晚上十点后还在营业扰民")
    typist.get_by_label("来电号码").fill("13812341234")
    typist.get_by_role("button", name="受理（Enter）").click()
    number = re.search(r"工单号 (\d+)", typist.get_by_role("status").inner_text())
    assert number is not None

    # No reload on the watcher: the live feed triggers the htmx re-fetch of the panel.
    expect(watcher.get_by_test_id("live-list")).to_contain_text(number.group(1))
    expect(watcher.locator("#panel-queue")).to_contain_text(number.group(1))
    assert number.group(1) not in before

    # 来电弹屏: the same citizen calls again; the console shows the number and the earlier ticket.
    ring = typist.request.post(
        f"{asgi_url}/webhooks/twilio/voice/",
        form={"CallSid": "CA-live-1", "From": "+8613812341234", "To": "+8612345", "CallStatus": "ringing"},
    )
    assert ring.ok
    banner = watcher.locator("#incoming-call")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("138 1234 1234")
    expect(watcher.get_by_test_id("caller-history")).to_contain_text(number.group(1))
    expect(watcher.get_by_label("来电号码")).to_have_value("13812341234")
    watcher.context.close()
    typist.context.close()


def _accepted(console: Any, text: str, phone: str) -> str:
    """Type a complaint on the operator's console and accept it; the new ticket's number."""
    console.get_by_label("诉求内容").fill(text)
    console.get_by_label("来电号码").fill(phone)
    console.get_by_role("button", name="受理（Enter）").click()
    found = re.search(r"工单号 (\d+)", console.get_by_role("status").inner_text())
    assert found is not None
    return found.group(1)


def _chosen(select: Any) -> str:
    return str(select.evaluate("s => s.options[s.selectedIndex].text"))


def test_a_live_refresh_waits_while_the_dispatcher_is_choosing(browser: Any, asgi_url: str) -> None:
    """Every new ticket in the city refreshes the 待派单 panel. A category the dispatcher has picked
    but not yet sent is not thrown away: the refresh waits, says so, and runs once the choice is
    sent, or at once when the dispatcher drops it."""
    typist = _operator_console(browser, asgi_url)
    first = _accepted(typist, "公司拖欠我三个月工资，老板一直躲着不见", "13700001111")
    dispatcher = _signed_in(browser, asgi_url, "dispatcher1", "/console/")
    expect(dispatcher.locator("body")).to_have_attribute("data-live", "on")
    choice = dispatcher.locator("#panel-queue tr", has_text=first).get_by_label("其他分类")
    choice.select_option(label="劳动和社会保障")

    second = _accepted(typist, "工地欠薪，十几个工人的工资没有结清", "13700002222")
    expect(dispatcher.get_by_test_id("live-list")).to_contain_text(second)  # its event has arrived
    held = dispatcher.get_by_test_id("live-held-panel-queue")
    expect(held).to_contain_text("有新的变化，完成或撤销当前填写后自动更新")
    expect(dispatcher.locator("#panel-queue")).not_to_contain_text(second)
    assert _chosen(choice) == "劳动和社会保障"

    dispatcher.locator("#panel-queue tr", has_text=first).get_by_role("button", name="派单", exact=True).click()
    expect(dispatcher.get_by_role("status")).to_contain_text(f"工单 {first} 已派单至 市人社局")
    expect(dispatcher.locator("#panel-queue")).to_contain_text(second)  # the page after the dispatch

    choice = dispatcher.locator("#panel-queue tr", has_text=second).get_by_label("其他分类")
    choice.select_option(label="劳动和社会保障")
    third = _accepted(typist, "物业公司拖欠保安工资半年", "13700003333")
    expect(dispatcher.get_by_test_id("live-list")).to_contain_text(third)
    expect(held).to_be_visible()
    screenshot(dispatcher, "console-refresh-held")
    dispatcher.set_viewport_size(PHONE)
    held.scroll_into_view_if_needed()
    screenshot(dispatcher, "console-refresh-held")
    assert dispatcher.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    held.get_by_role("button", name="放弃填写，立即更新").click()
    expect(dispatcher.locator("#panel-queue")).to_contain_text(third)
    expect(held).to_be_hidden()
    assert _chosen(dispatcher.locator("#panel-queue tr", has_text=second).get_by_label("其他分类")) != "劳动和社会保障"
    dispatcher.context.close()
    typist.context.close()


def test_a_refresh_answered_after_the_choice_began_is_not_swapped_in(browser: Any, asgi_url: str) -> None:
    """The panel's re-fetch left before the dispatcher picked a category and came back after: the
    answer is set aside (the note says so) instead of resetting the choice."""
    typist = _operator_console(browser, asgi_url)
    first = _accepted(typist, "单位拖欠加班费，多次讨要无果", "13700004444")
    dispatcher = _signed_in(browser, asgi_url, "dispatcher1", "/console/")
    expect(dispatcher.locator("body")).to_have_attribute("data-live", "on")
    expect(dispatcher.locator("#panel-queue")).to_contain_text(first)
    in_flight: list[Any] = []
    dispatcher.route("**/console/panels/queue/", lambda route: in_flight.append(route))

    second = _accepted(typist, "装修公司收了定金不施工也不退款", "13700005555")
    expect(dispatcher.get_by_test_id("live-list")).to_contain_text(second)
    for _ in range(BROWSER_TIMEOUT_MS // 50):  # until the queue's re-fetch has left (held at the network)
        if in_flight:
            break
        dispatcher.wait_for_timeout(50)
    assert in_flight, "the queue panel never re-fetched after a new ticket's event"
    choice = dispatcher.locator("#panel-queue tr", has_text=first).get_by_label("其他分类")
    choice.select_option(label="劳动和社会保障")
    for route in in_flight:
        route.continue_()
    dispatcher.unroute("**/console/panels/queue/")

    expect(dispatcher.get_by_test_id("live-held-panel-queue")).to_be_visible()
    assert _chosen(choice) == "劳动和社会保障"
    dispatcher.locator("#panel-queue tr", has_text=first).get_by_role("button", name="派单", exact=True).click()
    expect(dispatcher.get_by_role("status")).to_contain_text(f"工单 {first} 已派单至 市人社局")
    dispatcher.context.close()
    typist.context.close()


def test_a_live_refresh_waits_while_the_dispatchers_button_is_pressed(browser: Any, asgi_url: str) -> None:
    """A click is a press and a release on one button. A live refresh of 待派单 that re-rendered the
    panel between the two swallowed the click; it now waits for the release, and runs after it."""
    typist = _operator_console(browser, asgi_url)
    first = _accepted(typist, "小区楼道的灯坏了一个月没人修", "13700006666")
    dispatcher = _signed_in(browser, asgi_url, "dispatcher1", "/console/")
    expect(dispatcher.locator("body")).to_have_attribute("data-live", "on")
    button = dispatcher.locator("#panel-queue tr", has_text=first).get_by_role("button", name="派单", exact=True)
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    assert box is not None
    dispatcher.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    dispatcher.mouse.down()
    dispatcher.evaluate(  # from the press on: a refresh of 待派单 is either held or swapped in
        """window.queueRefresh = new Promise(done => {
             const mine = e => e.detail && e.detail.elt && e.detail.elt.id === 'panel-queue';
             window.addEventListener('htmx:beforeRequest', e => { if (mine(e) && e.defaultPrevented) done('held'); });
             window.addEventListener('htmx:afterSwap', e => { if (mine(e)) done('swapped'); });
           }); undefined"""
    )
    second = _accepted(typist, "路边的垃圾桶满了好几天没人清运", "13700007777")  # its event refreshes 待派单
    assert dispatcher.evaluate("window.queueRefresh") == "held"
    expect(dispatcher.get_by_test_id("live-held-panel-queue")).to_be_hidden()  # a press is a moment: no note
    dispatcher.mouse.up()
    expect(dispatcher.get_by_role("status")).to_contain_text(f"工单 {first} 已派单")
    expect(dispatcher.locator("#panel-queue")).to_contain_text(second)
    dispatcher.context.close()
    typist.context.close()


def test_rows_of_the_queue_stay_under_a_resting_pointer(browser: Any, asgi_url: str) -> None:
    """Two dispatchers on one 待派单. When one dispatches a row, the rows below it no longer move up
    under the other's pointer (a press there would have sent another ticket) or away from the
    keyboard's focus: the row is marked 已由他人处理 with its buttons disabled, and the panel is
    re-drawn when the pointer and the focus have left it."""
    typist = _operator_console(browser, asgi_url)
    first = _accepted(typist, "菜市场门口的下水道堵了，污水漫到路上", "13700011111")
    second = _accepted(typist, "小区电梯经常停在两层中间，物业不修", "13700022222")
    third = _accepted(typist, "公园里的健身器材坏了好久没人管", "13700033333")
    mine = _signed_in(browser, asgi_url, "dispatcher1", "/console/")
    other = _signed_in(browser, asgi_url, "dispatcher1", "/console/")
    expect(mine.locator("body")).to_have_attribute("data-live", "on")
    row = mine.locator("#panel-queue tr", has_text=second)
    row.locator(".text-cell").hover()  # the pointer is in the panel: from now on its rows stay put
    assert mine.evaluate("document.getElementById('panel-queue').matches(':hover')")
    aimed = row.get_by_role("button", name="派单", exact=True)
    box = aimed.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    mine.mouse.move(x, y)  # resting on the second ticket's 派单

    other.locator("#panel-queue tr", has_text=first).get_by_role("button", name="派单", exact=True).click()
    expect(other.get_by_role("status")).to_contain_text(f"工单 {first} 已派单")
    gone = mine.locator("#panel-queue tr", has_text=first)
    expect(gone).to_contain_text("已由他人处理")
    expect(gone.get_by_role("button", name="派单", exact=True)).to_be_disabled()
    under = mine.evaluate("([x, y]) => document.elementFromPoint(x, y).closest('tr').textContent", [x, y])
    assert second in under and first not in under  # the button under the pointer is still the second's
    screenshot(mine, "console-queue-stable")

    mine.mouse.move(5, 5)  # the pointer leaves the panel: it is re-drawn without the dispatched row
    expect(mine.locator("#panel-queue")).not_to_contain_text(first)
    expect(mine.locator("#panel-queue")).to_contain_text(third)

    # The same for the keyboard: the focus on the third's 派单 stays there when the second is taken.
    focused = mine.locator("#panel-queue tr", has_text=third).get_by_role("button", name="派单", exact=True)
    # No re-fetch of the panel in flight (a late event of the first 派单, on a loaded machine): the
    # focus goes on the panel as it stands, and is there before the second ticket is taken.
    expect(mine.locator("#panel-queue.htmx-request")).to_have_count(0)
    focused.focus()
    expect(focused).to_be_focused()
    other.locator("#panel-queue tr", has_text=second).get_by_role("button", name="派单", exact=True).click()
    expect(other.get_by_role("status")).to_contain_text(f"工单 {second} 已派单")
    expect(mine.locator("#panel-queue tr", has_text=second)).to_contain_text("已由他人处理")
    expect(focused).to_be_focused()
    mine.keyboard.press("Enter")
    expect(mine.get_by_role("status")).to_contain_text(f"工单 {third} 已派单")
    for page in (mine, other, typist):
        page.context.close()


CREATE_OFFLINE = """
from tickets.org.models import User
from tickets.intake.services import intake
from tickets.core.actors import Actor
ticket = intake.ticket_create(
    actor=Actor.of(User.objects.get(username="operator1")), channel="phone", text="公交站台的雨棚被风刮坏了"
)
print(ticket.number)
"""


def test_console_catches_up_after_the_socket_drops(browser: Any, asgi: AsgiServer) -> None:
    watcher = _operator_console(browser, asgi.url)
    body = watcher.locator("body")
    expect(body).to_have_attribute("data-live", "on")
    asgi.stop()  # the socket drops; live.js keeps retrying with back-off
    expect(body).to_have_attribute("data-live", "off")
    number = asgi.manage("shell", "-c", CREATE_OFFLINE).split()[-1]  # an event the watcher never receives
    asgi.start()
    expect(body).to_have_attribute("data-live", "on", timeout=40_000)
    # Only the catch-up (GET /api/events/?after=<cursor>) can bring it: the panel has no timer.
    expect(watcher.get_by_test_id("live-list")).to_contain_text(number, timeout=10_000)
    watcher.context.close()


def test_an_open_console_goes_to_the_login_page_when_its_login_is_revoked(browser: Any, asgi_url: str) -> None:
    """Issue 14: logging out in another tab, or an admin deactivating the account, closes the live
    socket at once (4401) and the page that still showed the console sends the person to log in."""
    console = _signed_in(browser, asgi_url, "operator2", "/console/")
    expect(console.locator("body")).to_have_attribute("data-live", "on")
    other_tab = console.context.new_page()
    other_tab.goto("/console/")
    other_tab.get_by_role("button", name="退出").click()
    expect(console).to_have_url(re.compile(r"/login/\?next=%2Fconsole%2F$"))

    console = _signed_in(browser, asgi_url, "operator2", "/console/")
    expect(console.locator("body")).to_have_attribute("data-live", "on")
    admin = _signed_in(browser, asgi_url, "admin", "/")
    admin.goto("/admin/tickets/user/?q=operator2")
    admin.get_by_role("link", name="operator2", exact=True).click()
    admin.get_by_label("有效").uncheck()
    admin.get_by_role("button", name="保存", exact=True).click()
    expect(admin.locator(".messagelist")).to_contain_text("成功修改")  # names the person (User.__str__), not the login
    expect(console).to_have_url(re.compile(r"/login/\?next=%2Fconsole%2F$"))
    console.context.close()
    admin.context.close()


def _from_outbox(staff_page: Any, pattern: str) -> str:
    """The newest SMS matching `pattern` on the staff SMS outbox (where the offline demo keeps them)."""
    outbox = staff_page.context.new_page()
    outbox.goto("/sms-outbox/")
    found = re.search(pattern, outbox.locator("tbody").inner_text())
    outbox.close()
    assert found is not None, pattern
    return found.group(1)


def test_whole_loop_citizen_to_scorecard(browser: Any, asgi_url: str) -> None:
    """Citizen submits on the web → console shows it live → dispatched → unit signs and replies →
    reviewed → the supervisor sees it on time → the citizen rates on a phone → the scorecard changes."""
    console = _operator_console(browser, asgi_url)
    expect(console.locator("body")).to_have_attribute("data-live", "on")
    supervisor = _signed_in(browser, asgi_url, "supervisor1", "/board/")
    supervisor.get_by_role("link", name="考核与红黑榜").click()
    scorecards = supervisor.locator("#scorecards")
    expect(scorecards).to_have_attribute("data-loaded", "1")
    expect(supervisor.get_by_test_id("satisfaction-rsj")).to_have_text("无数据")  # no rating yet this month

    # 1. The citizen, on a phone: verify the number by SMS code, then submit.
    citizen_ctx = browser.new_context(viewport=PHONE, locale="zh-CN", base_url=asgi_url, is_mobile=True)
    citizen_ctx.set_default_timeout(BROWSER_TIMEOUT_MS)
    citizen = citizen_ctx.new_page()
    citizen.goto("/citizen/")
    citizen.get_by_role("link", name="我要反映诉求").click()
    citizen.get_by_label("手机号码").fill("13566668888")
    citizen.get_by_role("button", name="获取验证码").click()
    citizen.get_by_label("短信验证码").fill(_from_outbox(console, r"验证码是(\d+)"))
    citizen.get_by_role("button", name="验证并继续").click()
    citizen.get_by_label("诉求内容").fill("公司拖欠我两个月工资一直不发，希望劳动部门帮忙追讨")
    citizen.get_by_label("事发地址").fill("东湖区新华街道幸福路8号")
    citizen.get_by_role("button", name="提交诉求").click()
    number = citizen.locator(".number").inner_text().strip()
    assert re.fullmatch(r"\d{14}", number)
    screenshot(citizen, "citizen-submitted")

    # 2. The operator's console shows it without a reload (WebSocket → htmx re-fetch).
    expect(console.get_by_test_id("live-list")).to_contain_text(number)
    row = console.locator("#panel-queue tr", has_text=number)
    expect(row).to_be_visible()

    # 3. Dispatch by category (no classifier model here): 劳动和社会保障 → 市人社局 by the catalogue.
    row.get_by_label("其他分类").select_option(label="劳动和社会保障")
    row.get_by_role("button", name="派单", exact=True).click()
    expect(console.get_by_role("status")).to_contain_text(f"工单 {number} 已派单至 市人社局")

    # 4. The unit signs and replies.
    unit = _signed_in(browser, asgi_url, "rsj_staff", "/unit/")
    unit.get_by_role("link", name=number).click()
    unit.get_by_role("button", name="签收").click()
    expect(unit.get_by_role("status")).to_contain_text("已签收")
    unit.get_by_label("办理结果（办复）").fill("已约谈企业负责人，拖欠工资已于今日全额发放。")
    unit.get_by_role("button", name="提交办复").click()
    expect(unit.get_by_role("status")).to_contain_text("已办复")

    # 5. The reply is reviewed on the console; the citizen is asked to rate.
    reviewer = _signed_in(browser, asgi_url, "dispatcher1", "/console/")
    review = reviewer.locator("#panel-review .panel", has_text=number)
    expect(review).to_contain_text("全额发放")
    review.get_by_role("button", name="通过").click()
    expect(reviewer.get_by_role("status")).to_contain_text("办复已通过")

    # 6. The supervisor drills down from the unit's scorecard row: the ticket was replied on time.
    supervisor.reload()
    expect(scorecards).to_have_attribute("data-loaded", "1")
    supervisor.get_by_test_id("units-table").get_by_role("link", name="市人社局").click()
    expect(supervisor.get_by_test_id(f"ontime-{number}")).to_have_text("按时办复")
    expect(supervisor.get_by_test_id(f"ontime-{number}")).to_have_class(re.compile(r"\bdue-ok\b"))

    # 7. The citizen rates from the link in the rating SMS, on the phone.
    token = _from_outbox(console, r"/citizen/rate/([^/\s]+)/")
    citizen.goto(f"/citizen/rate/{token}/")
    expect(citizen.get_by_text(number)).to_be_visible()
    citizen.get_by_role("radio", name="满意", exact=True).check()
    citizen.get_by_role("radio", name="已解决").check()
    citizen.get_by_role("radio", name="已联系").check()
    screenshot(citizen, "citizen-rate")
    citizen.get_by_role("button", name="提交评价").click()
    expect(citizen.get_by_role("status")).to_contain_text(f"工单{number}的评价已记录")
    assert citizen.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # 8. The scorecard changes: the unit's satisfaction and composite now count this rating.
    supervisor.goto("/board/scorecards/")
    expect(scorecards).to_have_attribute("data-loaded", "1")
    expect(supervisor.get_by_test_id("satisfaction-rsj")).to_have_text("100.0%")
    expect(supervisor.get_by_test_id("red-list")).to_contain_text("市人社局")
    screenshot(supervisor, "board-scorecards")
    for page in (console, supervisor, unit, reviewer, citizen):
        page.context.close()
