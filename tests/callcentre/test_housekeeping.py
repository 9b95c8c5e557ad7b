"""The periodic work: recordings past their retention are deleted at Twilio and can no longer be
heard; an offer nobody picks up goes to the next operator and the silent seat goes 小休."""

from __future__ import annotations

from typing import Any

import time_machine
from django.test import Client

from tests.callcentre.conftest import ACCOUNT, CC, LINE
from tickets.callcentre.models import CallRecording, QueuedCall, Seat
from tickets.callcentre.services.assignment import assign_sweep
from tickets.callcentre.services.recordings import recordings_purge
from tickets.intake.models import Call

FROM = "+8613912345678"


def test_recordings_past_the_retention_are_deleted_at_twilio_and_no_longer_heard(
    city: Any, user: Any, settings: Any, twilio_rest: Any
) -> None:
    settings.CALLCENTRE_RECORDING_RETENTION_DAYS = 180
    url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/RE{'1' * 32}"
    with time_machine.travel("2026-05-01 10:00:00+08:00", tick=False):
        old = CallRecording.objects.create(
            call=Call.objects.create(call_sid="CA" + "1" * 32), recording_sid="RE" + "1" * 32, url=url
        )
    with time_machine.travel("2026-11-30 10:00:00+08:00", tick=False):
        new = CallRecording.objects.create(
            call=Call.objects.create(call_sid="CA" + "2" * 32), recording_sid="RE" + "2" * 32, url=url
        )
    with time_machine.travel("2026-12-02 10:00:00+08:00", tick=False):
        assert recordings_purge() == 1
    deleted = [r["path"] for r in twilio_rest.requests if r["method"] == "DELETE"]
    assert deleted == [f"/2010-04-01/Accounts/{ACCOUNT}/Recordings/RE{'1' * 32}.json"]
    old.refresh_from_db()
    new.refresh_from_db()
    assert old.purged_at is not None and old.url == "" and new.purged_at is None
    page = Client()
    page.force_login(user("supervisor1"))
    assert page.get(f"/console/recordings/{old.pk}/").status_code == 404


def test_an_offer_nobody_answers_goes_to_the_next_operator(
    city: Any, ready: Any, post: Any, twilio_rest: Any, settings: Any
) -> None:
    settings.CALLCENTRE_RING_SECONDS = 20
    with time_machine.travel("2026-12-02 09:00:00+08:00", tick=False) as clock:
        first = ready("operator1")
        clock.shift(1)
        second = ready("operator2")
        post(f"{CC}/voice/", CallSid="CA" + "c" * 32, From=FROM, To=LINE)
        assert QueuedCall.objects.get().offered_to.user == first
        clock.shift(31)  # ring time + grace: nobody picked up
        assign_sweep()
    assert Seat.objects.get(user=first).state == "break"
    assert QueuedCall.objects.get().offered_to.user == second
    assert [r["form"]["To"] for r in twilio_rest.created_calls()] == [
        f"client:seat-{first.pk}",
        f"client:seat-{second.pk}",
    ]
