"""The citizen app API: SMS-code login, submit (idempotent), my tickets, public detail, rating."""

from __future__ import annotations

import re
from typing import Any

import pytest
from rest_framework.test import APIClient

from tickets.core.models import Ticket
from tickets.feedback.models import Rating
from tickets.messaging.models import SmsMessage

PHONE = "+8613600136000"


@pytest.fixture
def app(city: Any) -> APIClient:
    """An APIClient logged in through the real code + login endpoints."""
    client = APIClient()
    assert client.post("/api/app/auth/code/", {"phone": "13600136000"}, format="json").status_code == 200
    body = SmsMessage.objects.filter(to_phone=PHONE, purpose="verification").latest("id").body
    code = re.search(r"(\d{6})", body).group(1)  # type: ignore[union-attr]
    login = client.post("/api/app/auth/login/", {"phone": "13600136000", "code": code}, format="json")
    assert login.status_code == 200 and login.json()["phone"] == "136****6000"
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['token']}")
    return client


SUBMIT = {"kind": "complaint", "text": "小区门口下水道堵塞，污水外溢三天了", "citizen_address": "滨江区园区社区"}


def test_login_needs_the_right_code(city: Any) -> None:
    client = APIClient()
    client.post("/api/app/auth/code/", {"phone": "13600136000"}, format="json")
    wrong = client.post("/api/app/auth/login/", {"phone": "13600136000", "code": "12345x"}, format="json")
    assert wrong.status_code == 400 and wrong.json()["rule"] == "code"
    assert client.get("/api/app/tickets/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert client.get("/api/app/tickets/").status_code == 401


def test_a_retried_submit_with_the_same_idempotency_key_returns_the_first_result(app: APIClient) -> None:
    first = app.post("/api/app/tickets/", SUBMIT, format="json", HTTP_IDEMPOTENCY_KEY="a1b2")
    retry = app.post("/api/app/tickets/", SUBMIT, format="json", HTTP_IDEMPOTENCY_KEY="a1b2")
    other = app.post(
        "/api/app/tickets/", {**SUBMIT, "text": "另一件事：路灯不亮了"}, format="json", HTTP_IDEMPOTENCY_KEY="a1b2"
    )

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json() and retry["Idempotent-Replayed"] == "true"
    assert other.status_code == 400 and other.json()["rule"] == "idempotency_mismatch"
    ticket = Ticket.objects.get()
    assert (ticket.channel, ticket.citizen_phone, ticket.number) == ("app", PHONE, first.json()["number"])


def test_a_citizen_lists_and_reads_only_their_own_tickets(app: APIClient, ticket_in_rating: Any) -> None:
    mine = app.post("/api/app/tickets/", SUBMIT, format="json").json()
    other = ticket_in_rating("+8613900139000")

    listed = app.get("/api/app/tickets/").json()["results"]
    assert [t["number"] for t in listed] == [mine["number"]]
    assert app.get(f"/api/app/tickets/{other.number}/").status_code == 404
    detail = app.get(f"/api/app/tickets/{mine['number']}/").json()
    assert detail["history"][0]["text"] == "诉求已受理"
    assert "citizen_phone" not in detail


def test_a_citizen_rates_a_replied_ticket_in_the_app(app: APIClient, ticket_in_rating: Any) -> None:
    ticket = ticket_in_rating(PHONE)
    detail = app.get(f"/api/app/tickets/{ticket.number}/").json()
    assert detail["can_rate"] and detail["reply"] == "已督促企业于本周发放工资"
    assert "已转交市人社局办理" in [e["text"] for e in detail["history"]]
    assert detail["lead_unit"] == "市人社局"

    rated = app.post(
        f"/api/app/tickets/{ticket.number}/rating/", {"satisfaction": "satisfied", "solved": True}, format="json"
    )
    again = app.post(f"/api/app/tickets/{ticket.number}/rating/", {"satisfaction": "dissatisfied"}, format="json")

    assert rated.status_code == 200 and rated.json()["state"] == "closed"
    assert again.status_code == 409
    assert Rating.objects.get(ticket=ticket).satisfaction == "satisfied"


def test_submit_input_is_strict(app: APIClient) -> None:
    unknown = app.post("/api/app/tickets/", {**SUBMIT, "state": "closed"}, format="json")
    control = app.post("/api/app/tickets/", {**SUBMIT, "text": "内容\u0000带控制字符"}, format="json")
    assert unknown.status_code == control.status_code == 400
    assert not Ticket.objects.exists()


def test_a_citizen_adds_to_an_open_matter_and_not_to_an_ended_one(
    app: APIClient, ticket_in_rating: Any, user: Any
) -> None:
    number = app.post("/api/app/tickets/", SUBMIT, format="json").json()["number"]
    added = app.post(f"/api/app/tickets/{number}/supplement/", {"text": "补充：污水已经流到3号楼门口"}, format="json")
    assert added.status_code == 200 and added.json()["can_supplement"] is True
    assert "您补充了诉求内容" in [h["text"] for h in added.json()["history"]]
    ticket = Ticket.objects.get(number=number)
    assert re.search(r"【市民补充 \d\d-\d\d \d\d:\d\d】补充：污水已经流到3号楼门口$", ticket.text)
    assert ticket.events.filter(action="message_appended", actor_kind="citizen").count() == 1

    empty = app.post(f"/api/app/tickets/{number}/supplement/", {"text": " "}, format="json")
    assert empty.status_code == 400 and empty.json()["field"] == "text"
    other = ticket_in_rating("+8613900139000")
    foreign = app.post(f"/api/app/tickets/{other.number}/supplement/", {"text": "不是我的"}, format="json")
    assert foreign.status_code == 404

    Ticket.objects.filter(number=number).update(state="merged")
    merged = app.post(f"/api/app/tickets/{number}/supplement/", {"text": "还想再说一句"}, format="json")
    assert merged.status_code == 409 and merged.json()["rule"] == "ticket_merged"
    Ticket.objects.filter(number=number).update(state="closed")
    ended = app.post(f"/api/app/tickets/{number}/supplement/", {"text": "还想再说一句"}, format="json")
    assert ended.status_code == 409 and ended.json()["rule"] == "ticket_ended"
    assert Ticket.objects.get(number=number).text == ticket.text


def test_a_supplement_that_no_longer_fits_says_how_much_room_is_left(app: APIClient, settings: Any) -> None:
    number = app.post("/api/app/tickets/", SUBMIT, format="json").json()["number"]
    settings.TICKET_TEXT_MAX = len(Ticket.objects.get(number=number).text) + 40
    long = app.post(f"/api/app/tickets/{number}/supplement/", {"text": "很长的补充" * 10}, format="json")
    assert long.status_code == 400 and "还可补充约" in long.json()["detail"]
    assert app.post(f"/api/app/tickets/{number}/supplement/", {"text": "短的补充"}, format="json").status_code == 200
