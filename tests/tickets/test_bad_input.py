"""Bad input gets a 400 that names the field, and leaves no row behind."""

from __future__ import annotations

import pytest

from tickets.core.models import Ticket, TicketEvent

GOOD = {"text": "小区路灯损坏，晚上出行不便。", "citizen_phone": "13812341234"}


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"bogus": 1}, "bogus"),
        ({"text": "长" * 5001}, "text"),
        ({"title": "题" * 201}, "title"),
        ({"citizen_phone": "12345"}, "citizen_phone"),
        ({"citizen_phone": "not a phone"}, "citizen_phone"),
        ({"text": "含有控制字符\x00的内容"}, "text"),
        ({"citizen_name": "张\x1b三"}, "citizen_name"),
        ({"kind": "rant"}, "kind"),
        ({"urgency": "asap"}, "urgency"),
        ({"channel": "pigeon"}, "channel"),
        ({"category": 999999}, "category"),
        ({"confidential": "maybe"}, "confidential"),
        ({"text": ""}, "text"),
        ({"text": 12345}, "text"),
    ],
)
def test_each_bad_field_is_named_and_nothing_is_stored(api, patch: dict, field: str) -> None:
    response = api("operator1").post("/api/tickets/", {**GOOD, **patch}, format="json")
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert field in response.json()["errors"]
    assert not Ticket.objects.exists() and not TicketEvent.objects.exists()


def test_malformed_json_is_a_clear_400(api) -> None:
    response = api("operator1").post("/api/tickets/", data='{"text": "未闭合', content_type="application/json")
    assert response.status_code == 400 and response.json()["rule"] == "malformed_json"
    assert not Ticket.objects.exists()


def test_a_json_array_is_not_a_ticket(api) -> None:
    response = api("operator1").post("/api/tickets/", data="[1, 2]", content_type="application/json")
    assert response.status_code == 400
    assert not Ticket.objects.exists()


def test_full_width_text_and_phone_are_normalised(api) -> None:
    response = api("operator1").post(
        "/api/tickets/",
        {"text": "　噪音　扰民ＡＢＣ１２３，请处理。", "citizen_phone": "１３８１２３４１２３４"},
        format="json",
    )
    assert response.status_code == 201
    ticket = Ticket.objects.get()
    assert ticket.text == "噪音 扰民ABC123，请处理。" and ticket.citizen_phone == "+8613812341234"


def test_a_refused_operation_changes_nothing(api, units) -> None:
    from .helpers import dispatched

    _ticket, assignment = dispatched(units["rsj"])
    before = TicketEvent.objects.count()
    response = api("rsj_staff").post(
        f"/api/assignments/{assignment.pk}/reply/", {"text": "未签收就办复"}, format="json"
    )
    assert response.status_code == 409 and response.json()["rule"] == "state:reply"
    assert "待签收" in response.json()["detail"]
    assignment.refresh_from_db()
    assert assignment.state == "pending_sign" and assignment.reply_text == ""
    assert TicketEvent.objects.count() == before
