"""The one intake path: normalisation and abuse limits, whatever the channel."""

from __future__ import annotations

from typing import Any

import pytest

from tickets.core.actors import Actor
from tickets.core.models import Ticket
from tickets.errors import RateLimited
from tickets.intake.services import intake


def test_phone_numbers_and_full_width_text_are_normalised(city: Any) -> None:
    ticket = intake.ticket_create(
        actor=Actor.citizen(),
        channel="web",
        text="  反映：ＡＢＣ小区　　３号楼   漏水  ",
        citizen_phone="１３８ ００１３ ８０００",
        citizen_address="东湖区　幸福路１２号",
    )

    assert ticket.citizen_phone == "+8613800138000"
    assert ticket.text == "反映：ABC小区 3号楼 漏水"
    assert ticket.citizen_address == "东湖区 幸福路12号"


@pytest.mark.parametrize("written", ["abc13812345678", "13812345678 x12", "tel:13812345678", "138１２３４５６７８号"])
def test_a_number_written_with_letters_is_refused_and_files_nothing(api: Any, written: str) -> None:
    # phonenumbers skips leading letters and reads "x12" as an extension E.164 drops, so each of
    # these used to be stored as +8613812345678: a callback to a number the caller never gave.
    before = Ticket.objects.count()
    body = {"channel": "phone", "text": "小区路灯坏了一个月没人修", "citizen_phone": written}
    response = api("operator1").post("/api/tickets/", body, format="json")

    assert response.status_code == 400, response.content
    assert "citizen_phone" in response.content.decode()
    assert Ticket.objects.count() == before


def test_citizen_channels_are_rate_limited_per_number_and_per_address(city: Any, settings: Any) -> None:
    settings.INTAKE_LIMIT_PER_PHONE = (2, 3600)
    settings.INTAKE_LIMIT_PER_IP = (3, 3600)
    citizen = Actor.citizen()
    for _ in range(2):
        intake.ticket_create(actor=citizen, channel="web", text="重复提交的诉求", citizen_phone="13800138000")
    with pytest.raises(RateLimited):
        intake.ticket_create(actor=citizen, channel="web", text="重复提交的诉求", citizen_phone="13800138000")

    intake.ticket_create(
        actor=citizen, channel="web", text="同一地址另一号码", citizen_phone="13900139000", client_ip="10.1.1.1"
    )
    with pytest.raises(RateLimited):
        for n in range(3):
            intake.ticket_create(
                actor=citizen,
                channel="web",
                text="同一地址另一号码",
                citizen_phone=f"1370013700{n}",
                client_ip="10.1.1.1",
            )
    assert Ticket.objects.count() == 5


def test_staff_entering_calls_are_not_rate_limited(city: Any, user: Any, settings: Any) -> None:
    settings.INTAKE_LIMIT_PER_PHONE = (1, 3600)
    operator = Actor.of(user("operator1"))
    for _ in range(3):
        intake.ticket_create(actor=operator, channel="phone", text="同一来电人多次反映", citizen_phone="13800138000")
    assert Ticket.objects.count() == 3
