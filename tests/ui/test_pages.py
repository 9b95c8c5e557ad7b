"""The staff pages without a browser: role routing, scoping, review rights, CSRF."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tickets.core.actors import Actor
from tickets.core.services import workflow
from tickets.intake.services import intake
from tickets.org.models import Unit, User

pytestmark = pytest.mark.django_db


def _client(username: str, **kwargs: Any) -> Client:
    client = Client(**kwargs)
    client.force_login(User.objects.get(username=username))
    return client


@pytest.mark.parametrize(
    ("username", "home"),
    [("operator1", "/console/"), ("dispatcher1", "/console/"), ("rsj_staff", "/unit/"), ("supervisor1", "/board/")],
)
def test_home_sends_each_role_to_its_workspace(city: Any, username: str, home: str) -> None:
    client = _client(username)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == home
    assert client.get(home).status_code == 200


def test_workspaces_are_closed_to_other_roles_and_anonymous_users(city: Any) -> None:
    assert _client("rsj_staff").get("/console/").status_code == 404
    assert _client("operator1").get("/unit/").status_code == 404
    response = Client().get("/board/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def _replied_ticket() -> Any:
    operator = Actor.of(User.objects.get(username="operator1"))
    ticket = intake.ticket_create(actor=operator, channel="phone", text="养老保险转移手续办不了", auto_route=False)
    workflow.ticket_dispatch(ticket=ticket, actor=operator, lead_unit=Unit.objects.get(code="rsj"))
    staff = Actor.of(User.objects.get(username="rsj_staff"))
    assignment = ticket.assignments.get()
    workflow.assignment_sign(assignment=assignment, actor=staff)
    workflow.assignment_reply(assignment=assignment, actor=staff, text="已联系市民并办理转移")
    return ticket


def test_only_reviewers_get_the_review_buttons(city: Any) -> None:
    ticket = _replied_ticket()
    operator_page = _client("operator1").get("/console/panels/review/").content.decode()
    dispatcher_page = _client("dispatcher1").get("/console/panels/review/").content.decode()
    assert ticket.number in operator_page and "由派单员/审核员或督办员审核" in operator_page
    assert f"/console/tickets/{ticket.pk}/review/" not in operator_page
    assert f"/console/tickets/{ticket.pk}/review/" in dispatcher_page


def test_another_units_ticket_is_404_for_reads_and_writes(city: Any) -> None:
    ticket = _replied_ticket()
    other = _client("donghu_staff")
    assert other.get(f"/unit/tickets/{ticket.pk}/").status_code == 404
    assert other.post(f"/unit/tickets/{ticket.pk}/reveal-phone/").status_code == 404
    assert other.post(f"/unit/tickets/{ticket.pk}/sign/").status_code == 404


def test_forms_need_the_csrf_token(city: Any) -> None:
    client = _client("operator1", enforce_csrf_checks=True)
    response = client.post("/console/tickets/", {"kind": "help", "urgency": "normal", "text": "噪音扰民"})
    assert response.status_code == 403


def test_the_tab_icon_is_served_at_the_root_to_anyone() -> None:
    """Every browser asks for /favicon.ico on a site's first page: it is there (no 404 in the
    console of a citizen's or an operator's first visit), without signing in."""
    response = Client().get("/favicon.ico")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]
    assert body[:4] == b"\x00\x00\x01\x00"  # an icon file (ICO header)
    assert "icon" in response["Content-Type"]


def test_a_busy_units_inbox_lists_the_nearest_deadlines_and_counts_and_points_to_the_rest(
    city: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tickets.pages import unit as unit_pages

    monkeypatch.setattr(unit_pages, "INBOX_ROWS", 3)  # a bureau with more open tickets than a page lists
    operator = Actor.of(User.objects.get(username="operator1"))
    staff = Actor.of(User.objects.get(username="rsj_staff"))
    rsj = Unit.objects.get(code="rsj")
    signed = []
    for i in range(5):
        text = f"第{i}件：养老保险转移手续办不了"
        ticket = intake.ticket_create(actor=operator, channel="phone", text=text, auto_route=False)
        workflow.ticket_dispatch(ticket=ticket, actor=operator, lead_unit=rsj)
        assignment = ticket.assignments.get()
        workflow.assignment_sign(assignment=assignment, actor=staff)
        signed.append(assignment)
    waiting = intake.ticket_create(actor=operator, channel="phone", text="社保卡补办进度查询", auto_route=False)
    workflow.ticket_dispatch(ticket=waiting, actor=operator, lead_unit=rsj)

    page = _client("rsj_staff").get("/unit/inbox/").content.decode()

    nearest = sorted(signed, key=lambda a: (a.reply_due_at, a.id))
    shown = [a.ticket.number for a in nearest[:3]]
    hidden = [a.ticket.number for a in nearest[3:]]
    assert all(f'data-number="{number}"' in page for number in shown)
    assert not any(f'data-number="{number}"' in page for number in hidden)
    assert "办理中（5）" in page and "共 5 件，这里列出办理时限最近的 3 件" in page
    assert '<a href="/tickets/?sort=due">在工单查询中按办理时限查看全部</a>' in page
    assert "待签收（1）" in page and f'data-number="{waiting.number}"' in page  # a group that fits: no note
    assert page.count('data-testid="inbox-more"') == 1
    assert 'data-open-count="6"' in page  # every open ticket counted, listed or not


def test_the_inbox_chases_waiting_tickets_on_their_sign_deadline(city: Any) -> None:
    """待签收 lists the 签收 deadline (30 minutes for a 特急 ticket), not the reply's days later."""
    operator = Actor.of(User.objects.get(username="operator1"))
    rsj = Unit.objects.get(code="rsj")
    ticket = intake.ticket_create(
        actor=operator, channel="phone", text="工地塔吊倾斜，随时可能倒塌", urgency="critical", auto_route=False
    )
    workflow.ticket_dispatch(ticket=ticket, actor=operator, lead_unit=rsj)
    waiting = ticket.assignments.get()
    assert waiting.sign_due_at is not None and waiting.sign_due_at < waiting.reply_due_at
    page = _client("rsj_staff").get("/unit/inbox/").content.decode()
    local = timezone.localtime(waiting.sign_due_at)
    row = page[page.index(f'data-number="{ticket.number}"') :]
    assert f'data-due="{local.isoformat()}"' in row.split("</tr>")[0]
    assert f">{local:%m-%d %H:%M} 24小时内到期<" in row.split("</tr>")[0]
    assert '<th scope="col">签收时限</th>' in page
