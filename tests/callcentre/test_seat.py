"""The operator's seat: states chosen on the console and by the call, the softphone's token."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
import time_machine
from django.test import Client

from tickets.callcentre.models import Seat, SeatStateChange
from tickets.callcentre.services import seats
from tickets.errors import TransitionNotAllowed
from tickets.org.models import User


def test_the_softphone_token_holds_the_operators_seat_identity_and_expires(city: Any, user: Any, settings: Any) -> None:
    settings.TWILIO_ACCOUNT_SID = "AC" + "1" * 32
    settings.TWILIO_API_KEY_SID = "SK" + "2" * 32
    settings.TWILIO_API_KEY_SECRET = "api-key-secret-for-the-softphone-tests"
    settings.TWILIO_TWIML_APP_SID = "AP" + "3" * 32
    settings.CALLCENTRE_TOKEN_TTL_SECONDS = 300
    operator = user("operator1")
    page = Client()
    page.force_login(operator)
    with time_machine.travel("2026-12-02 09:00:00+08:00", tick=False):
        body = page.get("/console/seat/token/").json()
        claims = jwt.decode(body["token"], "api-key-secret-for-the-softphone-tests", algorithms=["HS256"])
    assert body["identity"] == claims["grants"]["identity"] == f"seat-{operator.pk}"
    assert claims["grants"]["voice"] == {
        "incoming": {"allow": True},
        "outgoing": {"application_sid": "AP" + "3" * 32},
    }
    assert (claims["iss"], claims["sub"]) == ("SK" + "2" * 32, "AC" + "1" * 32)
    assert claims["exp"] - claims["nbf"] == 300 == body["expires"] - claims["nbf"]
    with time_machine.travel("2026-12-02 09:05:01+08:00", tick=False), pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(body["token"], "api-key-secret-for-the-softphone-tests", algorithms=["HS256"])
    # another operator's token names another seat; unit staff get no token at all
    other = Client()
    other.force_login(user("operator2"))
    assert other.get("/console/seat/token/").json()["identity"] == f"seat-{user('operator2').pk}"
    unit = Client()
    unit.force_login(User.objects.filter(role="unit_staff").first())
    assert unit.get("/console/seat/token/").status_code == 404


def test_states_chosen_on_the_console_are_recorded_and_a_call_in_progress_cannot_be_left(city: Any, user: Any) -> None:
    operator = user("operator1")
    page = Client()
    page.force_login(operator)
    answer = page.post("/console/seat/state/", {"state": "ready"})
    assert answer.status_code == 200 and "就绪" in answer.content.decode()
    assert page.post("/console/seat/state/", {"state": "break"}).status_code == 200
    assert list(SeatStateChange.objects.values_list("state", flat=True)) == ["ready", "break"]
    refused = page.post("/console/seat/state/", {"state": "on_call"})
    assert refused.status_code == 400 and "座席状态只能选择" in refused.content.decode()
    seat = Seat.objects.get(user=operator)
    seats.seat_move(seat=seat, to="on_call", reason="接通来电")
    with pytest.raises(TransitionNotAllowed):
        seats.seat_choose_state(user=operator, state="break")
    assert page.post("/console/seat/state/", {"state": "offline"}).status_code == 409
    assert Seat.objects.get(user=operator).state == "on_call"
