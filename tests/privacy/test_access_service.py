"""The one service for phone reveals (issue 15: it was written twice, in the API view and in the
unit page, with different rules): `tickets.core.services.access.ticket_phone_reveal`."""

from __future__ import annotations

from typing import Any

import pytest

from tests.privacy.story import Matter, dispatch, file
from tickets.core.models import TicketAccessLog, TicketEvent
from tickets.core.services import access
from tickets.errors import NotPermitted
from tickets.org.models import User


def test_the_reveal_service_records_the_reveal_and_refuses_a_unit_on_an_anonymous_ticket(city: Any) -> None:
    matter = Matter(channel="phone", national="13600136005", privacy="anonymous", quotes_contact=False)
    ticket = file(matter, 20)
    dispatch(matter)
    ticket.refresh_from_db()
    unit, operator = User.objects.get(username="rsj_staff"), User.objects.get(username="operator1")

    with pytest.raises(NotPermitted) as refused:
        access.ticket_phone_reveal(ticket=ticket, user=unit, via="test")
    assert refused.value.rule == "confidential"
    assert access.ticket_phone_reveal(ticket=ticket, user=operator, via="test") == matter.e164
    [log] = TicketAccessLog.objects.filter(action="reveal_phone")
    assert (log.user, log.ticket_id, log.detail) == (operator, ticket.pk, {"via": "test"})
    assert TicketEvent.objects.filter(ticket=ticket, action="phone_revealed", actor=operator).count() == 1
