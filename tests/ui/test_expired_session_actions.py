"""A form posted after the staff session ended (a clerk's lunch break): the login page says the action
was not done and leads back to the page the form was on, not to the action's URL, which answers POST
only. Such a URL opened directly is the site's Chinese page, not an empty 405."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.test import Client

from tests.tickets.helpers import dispatched
from tickets.core.models import AssignmentState
from tickets.org.models import Unit, User


def test_a_form_posted_after_the_session_ended_leads_back_to_its_page(city: Any) -> None:
    ticket, lead = dispatched(Unit.objects.get(code="rsj"))
    page = f"/tickets/{ticket.pk}/?tab=work"
    expired = Client()  # no session: it ended while the page stood open

    answer = expired.post(f"/unit/tickets/{ticket.pk}/sign/", HTTP_REFERER=f"http://testserver{page}")
    assert answer.status_code == 302
    target = urlsplit(answer["Location"])
    assert target.path == "/login/"
    assert parse_qs(target.query) == {"next": [page], "expired": ["1"]}
    lead.refresh_from_db()
    assert lead.state == AssignmentState.PENDING_SIGN  # nothing was done

    login = expired.get(answer["Location"]).content.decode()
    assert "登录已失效，刚才的操作没有执行" in login and f'name="next" value="{page}"' in login
    back = expired.post("/login/", {"username": "rsj_staff", "password": "demo-12345", "next": page})
    assert back.status_code == 302 and back["Location"] == page

    # A referer from elsewhere is not followed: the home page instead.
    foreign = Client().post(f"/unit/tickets/{ticket.pk}/sign/", HTTP_REFERER="https://evil.example/x")
    assert parse_qs(urlsplit(foreign["Location"]).query)["next"] == ["/"]


def test_an_action_url_opened_directly_is_a_chinese_page(city: Any) -> None:
    ticket, lead = dispatched(Unit.objects.get(code="rsj"))
    clerk = Client()
    clerk.force_login(User.objects.get(username="rsj_staff"))
    answer = clerk.get(f"/unit/tickets/{ticket.pk}/sign/", HTTP_REFERER=f"http://testserver/tickets/{ticket.pk}/")
    assert answer.status_code == 405 and answer["Allow"] == "POST"
    body = answer.content.decode()
    assert "请从页面上的按钮操作" in body and f'href="/tickets/{ticket.pk}/"' in body
    lead.refresh_from_db()
    assert lead.state == AssignmentState.PENDING_SIGN
