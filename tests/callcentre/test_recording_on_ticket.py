"""The recording joins the ticket (domain.md §9): a call-centre recording of a ticket's call is
among the ticket page's attachments for the centre, played only through the audited proxy (never
Twilio's URL), with its length; the unit's clerk does not get it; a purged one is gone."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.utils import timezone

from tests.tickets.helpers import dispatched, staff
from tickets.callcentre.models import CallRecording
from tickets.core.models import AccessAction, TicketAccessLog
from tickets.intake.models import Call
from tickets.org.models import User

TWILIO = "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE" + "5" * 32


def _page(reader: User, ticket_id: int) -> str:
    client = Client()
    client.force_login(reader)
    response = client.get(f"/tickets/{ticket_id}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_calls_recording_is_on_the_ticket_page_for_the_operator_not_for_the_unit_clerk(
    units: Any, user: Any, settings: Any
) -> None:
    settings.TWILIO_ACCOUNT_SID = ""  # the proxy never reaches Twilio for the demo's placeholder
    ticket, _lead = dispatched(units["rsj"])
    call = Call.objects.create(call_sid="CA" + "5" * 32, ticket=ticket)
    heard = CallRecording.objects.create(
        call=call, ticket=ticket, recording_sid="RE" + "5" * 32, url=TWILIO, duration_seconds=95, status="completed"
    )
    # a second leg's recording stored before the ticket was linked follows its call
    later = CallRecording.objects.create(
        call=call, recording_sid="RE" + "6" * 32, url="demo:RE6", duration_seconds=7, status="completed"
    )
    purged = CallRecording.objects.create(
        call=call, ticket=ticket, recording_sid="RE" + "7" * 32, url="", purged_at=timezone.now()
    )

    body = _page(user("operator1"), ticket.pk)
    assert "附件（2）" in body and "无附件" not in body
    assert f'href="/console/recordings/{heard.pk}/"' in body and "1:35" in body
    assert f'href="/console/recordings/{later.pk}/"' in body and "0:07" in body
    assert f"/console/recordings/{purged.pk}/" not in body  # past the retention: gone, as the console shows
    assert "api.twilio.com" not in body and "demo:RE6" not in body

    clerk = staff(units["rsj"])
    clerk_body = _page(clerk, ticket.pk)
    assert "/console/recordings/" not in clerk_body and "收听录音" not in clerk_body
    assert "附件（0）" in clerk_body

    # the link is the audited proxy: listening is a logged act
    listener = Client()
    listener.force_login(user("operator1"))
    audio = listener.get(f"/console/recordings/{later.pk}/")
    assert audio.status_code == 200 and audio["Content-Type"] == "audio/wav"
    logged = TicketAccessLog.objects.filter(ticket=ticket, user=user("operator1"), action=AccessAction.LISTEN)
    assert [row.detail["recording"] for row in logged] == ["RE" + "6" * 32]
