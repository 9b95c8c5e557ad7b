"""The live feed in a real browser: one operator's console shows another's new ticket without a reload.

pytest-django's live_server speaks WSGI only, so this test runs the real ASGI app (uvicorn, HTTP and
WebSocket on one port) in a subprocess with its own SQLite file and the in-memory channel layer —
the embedded set-up `scripts/start.sh` uses — and talks to it only through the browser.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.ui.conftest import DESKTOP, PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
QUIET = ("--log-level", "warning")
SETUP = f"""
PASSWORD = "{PASSWORD}"
from django.contrib.auth.hashers import make_password
from django.test import override_settings
from tickets.demo import seed
from tickets.models import User
from tickets.services import sla
from tickets.services.calendar import calendar_seed_from_package
calendar_seed_from_package()
sla.profile_ensure_default()
with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
    units = seed.seed_units(); cats = seed.seed_categories(); seed.seed_routing(units, cats); seed.seed_users(units)
User.objects.filter(username="operator1").update(password=make_password(PASSWORD))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class AsgiServer:
    """uvicorn serving hotline.asgi on a free port; can be stopped and started again on the same data."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "hotline.asgi:application", "--port", str(self.port), *QUIET],
            cwd=ROOT,
            env=self.env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("uvicorn did not start")

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


@pytest.fixture(scope="module")
def asgi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AsgiServer]:
    var = tmp_path_factory.mktemp("asgi-var")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(
        HOTLINE_VAR_DIR=str(var),
        CLASSIFIER_MODEL_DIR=str(var / "no-model"),
        HOTLINE_EMBEDDED_SCHEDULER="0",
        HOTLINE_TWILIO_ALLOW_UNSIGNED="1",
        DJANGO_SETTINGS_MODULE="hotline.settings",
    )
    server = AsgiServer(env)
    server.manage("migrate", "-v0")
    server.manage("shell", "-c", SETUP)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def asgi_url(asgi: AsgiServer) -> str:
    return asgi.url


def _operator_console(browser: Any, url: str) -> Any:
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", base_url=url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/login/")
    page.get_by_label("用户名").fill("operator1")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/console/$"))
    return page


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
    expect(banner).to_contain_text("13812341234")
    expect(watcher.get_by_test_id("caller-history")).to_contain_text(number.group(1))
    expect(watcher.get_by_label("来电号码")).to_have_value("13812341234")
    watcher.context.close()
    typist.context.close()


CREATE_OFFLINE = """
from tickets.models import User
from tickets.services import intake
from tickets.services.actors import Actor
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
