"""Browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live_server."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.folders import built_once

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
DESKTOP = {"width": 1366, "height": 800}
PHONE = {"width": 390, "height": 844}
# How long a browser step may wait for its page (a load, a request going quiet, an element) before the
# test fails. Generous: CI's shared 2-core machine runs three test workers beside Chromium, and a CI run
# on a slow day took over 10 s for a page's requests to go quiet. A step that is ready goes on at once.
BROWSER_TIMEOUT_MS = 30_000
PASSWORD = "demo-12345"

# Playwright's sync API keeps an event loop in this thread; Django would otherwise refuse the
# test's own (synchronous) database calls made while it runs.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason="/usr/bin/chromium is missing: apt-get install -y chromium")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    # Package scope: Playwright's sync API keeps an event loop running in the main thread while
    # it is open, and async_to_sync in tests after tests/ui (e.g. `pytest tests/ui tests/live`)
    # would refuse to run; the browser closes once the last page test has run.
    # Imported here: the page tests also run in the production venv, which has no Playwright
    # (tests/drills/test_deploy_units.py), and need no browser.
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=BROWSER_TIMEOUT_MS)  # Playwright's assertions (their own default is 5 s)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def _seeded_var(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A var folder migrated and seeded with the demo city, once per test run (each module's uvicorn
    server, tests/ui/test_live.py's `asgi`, starts from a copy of it). Made by the first worker that
    needs it, under the run's shared temporary folder; the others wait on its lock and copy it: each
    made its own before, ~25 s of CPU apiece."""
    from tests.ui.test_live import SETUP, AsgiServer, server_env

    root = tmp_path_factory.getbasetemp()
    if worker_id != "master":  # pytest-xdist: the workers' folders share the run's parent
        root = root.parent

    def build(var: Path) -> None:
        var.mkdir()
        template = AsgiServer(server_env(var))
        template.manage("migrate", "-v0")
        template.manage("shell", "-c", SETUP)

    return built_once(root / "asgi-seeded", build)


@pytest.fixture
def new_page(browser: Any, live_server: Any) -> Iterator[Callable[..., Any]]:
    """A fresh browser context (own cookies) per call; all closed after the test."""
    contexts: list[Any] = []

    def make(viewport: dict[str, int] = DESKTOP) -> Any:
        context = browser.new_context(viewport=viewport, locale="zh-CN", base_url=live_server.url)
        context.set_default_timeout(BROWSER_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def login(page: Any, username: str) -> None:
    page.goto("/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state("networkidle")


def screenshot(page: Any, name: str) -> None:
    """artifacts/screenshots/<workspace>-<width>.png at the page's current width."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
