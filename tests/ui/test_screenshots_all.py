"""Every page a user reaches, photographed at desktop (1366 px) and phone (390 px) widths as the role
that opens it (issue 16, Must show), in artifacts/screenshots/page-<name>-<width>.png.

Besides the pictures (which people look at), each page must answer 200 (403/404 for the error pages)
and fit the phone's width: a page wider than the screen is a clipped table or an unbroken line. No
panel may need its own scroll bar either, at either width: a board panel whose last column ran past
its edge hid the ticket's state from every supervisor on a 1366 px screen, and on a phone a unit's
month list cut 已超期未办复 in half.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from tests.tickets.helpers import dispatched
from tests.ui.conftest import DESKTOP, PHONE, screenshot
from tests.ui.test_must_show import _seed
from tickets.core.actors import Actor
from tickets.core.services import workflow
from tickets.feedback.services import rating as rating_service
from tickets.org.models import User

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _in_rating(unit: Any) -> Any:
    ticket, assignment = dispatched(unit, phone="13900004444")
    clerk = Actor.of(User.objects.get(username="rsj_staff"))
    workflow.assignment_sign(assignment=assignment, actor=clerk)
    workflow.assignment_reply(assignment=assignment, actor=clerk, text="已约谈企业负责人，工资已于本周发放。")
    workflow.ticket_review_reply(
        ticket=ticket, actor=Actor.of(User.objects.get(username="dispatcher1")), accept=True, reason=""
    )
    ticket.refresh_from_db()
    return ticket


def _signed_in(page: Any, username: str, url: str) -> None:
    """A session made by Django's test client (the admin's password is not the demo one)."""
    client = Client()
    client.force_login(User.objects.get(username=username))
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": url}])


CSRF_FAILURE = """path => { const f = document.createElement('form'); f.method = 'post'; f.action = path;
  document.body.appendChild(f); f.submit(); }"""


def _pages(ids: dict[str, Any], rate_link: str) -> list[tuple[str | None, str, str, int]]:
    """(who, name, path, expected status)."""
    t, other, code = ids["ticket_id"], ids["other_id"], ids["code"]
    return [
        (None, "login", "/login/", 200),
        (None, "citizen-home", "/citizen/", 200),
        (None, "citizen-verify", "/citizen/verify/", 200),
        (None, "citizen-status", "/citizen/status/", 200),
        (None, "citizen-rate", rate_link, 200),
        ("operator1", "home", "/", 200),
        ("operator1", "console", "/console/", 200),
        ("operator1", "ticket-list", "/tickets/", 200),
        ("operator1", "ticket-search", "/tickets/?q=%E7%A7%AF%E6%B0%B4", 200),
        ("operator1", "ticket-page", f"/tickets/{t}/", 200),
        ("operator1", "ticket-print", f"/tickets/{t}/print/", 200),
        ("operator1", "ticket-compare", f"/tickets/{t}/compare/{other}/", 200),
        ("operator1", "sms-outbox", "/sms-outbox/", 200),
        ("operator1", "error-404", "/no-such-page/", 404),
        ("dispatcher1", "console-dispatcher", "/console/", 200),
        ("supervisor1", "board", "/board/", 200),
        ("supervisor1", "board-scorecards", "/board/scorecards/", 200),
        ("supervisor1", "board-unit-tickets", f"/board/units/{code}/tickets/", 200),
        ("supervisor1", "board-ratings", "/board/ratings/", 200),
        ("supervisor1", "hotspots", "/board/hotspots/", 200),
        ("supervisor1", "wallboard", "/board/callcentre/", 200),
        ("supervisor1", "kb", "/kb/", 200),
        ("supervisor1", "kb-new", "/kb/articles/new/", 200),
        ("supervisor1", "ticket-page-supervisor", f"/tickets/{t}/", 200),
        ("admin", "jobs", "/board/jobs/", 200),
        ("admin", "admin-index", "/admin/", 200),
        ("rsj_staff", "unit-inbox", "/unit/", 200),
        ("rsj_staff", "ticket-page-unit", f"/tickets/{t}/", 200),
        ("rsj_staff", "error-403", f"csrf:/unit/tickets/{t}/sign/", 403),  # a form posted without its token
    ]


# Boxes that scroll sideways at this width (a panel, a card) and by how much: what a reader sees cut
# off at the box's edge. Not counted: the screen-reader-only labels (1 px boxes by design) and a
# `.table-wrap`, a comparison table declared to scroll sideways on a phone (考核明细).
CLIPPED = """() => [...document.querySelectorAll('body *')].filter(el => {
  const overflow = getComputedStyle(el).overflowX;
  return ['auto', 'scroll', 'hidden', 'clip'].includes(overflow)
    && !el.classList.contains('sr-only') && !el.classList.contains('table-wrap')
    && el.clientWidth > 1 && el.scrollWidth > el.clientWidth + 1;
}).map(el => `${el.getAttribute('aria-label') || el.className}: ${el.scrollWidth} > ${el.clientWidth}`)"""


def test_every_page_at_desktop_and_phone_width(units: Any, cats: Any, new_page: Any, live_server: Any) -> None:
    ids = _seed(units, cats)
    rate_link = rating_service.rating_link(_in_rating(units["rsj"])).split("://", 1)[-1].split("/", 1)[-1]
    pages: dict[str | None, Any] = {}
    too_wide = {}
    clipped = {}
    for who, name, path, status in _pages(ids, "/" + rate_link):
        if who not in pages:
            pages[who] = new_page(DESKTOP)
            if who:
                _signed_in(pages[who], who, live_server.url)
        page = pages[who]
        for viewport in (DESKTOP, PHONE):
            page.set_viewport_size(viewport)
            if path.startswith("csrf:"):
                page.goto("/unit/")
                with page.expect_navigation() as navigation:
                    page.evaluate(CSRF_FAILURE, path.removeprefix("csrf:"))
                answer = navigation.value
            else:
                answer = page.goto(path)
            assert answer is not None and answer.status == status, (name, path, answer and answer.status)
            page.wait_for_load_state("networkidle")
            screenshot(page, f"page-{name}")
            width = page.evaluate("document.documentElement.scrollWidth")
            if viewport is PHONE and width > PHONE["width"] + 1:
                too_wide[name] = width
            if boxes := page.evaluate(CLIPPED):
                clipped[f"{name}-{viewport['width']}"] = boxes
    assert too_wide == {}
    assert clipped == {}
