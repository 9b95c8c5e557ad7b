"""The demo's 模拟来电: the same signed webhooks, posted in-process, move the queue, pop the caller,
leave a recording placeholder; refused unless the demo switch is on, and never in production."""

from __future__ import annotations

from typing import Any

from django.test import Client

from tickets.callcentre.models import CallRecording, QueuedCall, Seat
from tickets.intake.models import CallbackTask, InboundMessage


def test_a_simulated_call_goes_through_queue_pop_and_recording(
    city: Any, user: Any, settings: Any, ready: Any, seat_ear: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.CALLCENTRE_DEMO = True
    operator = ready("operator1")
    ear = seat_ear(operator)
    page = Client()
    page.force_login(operator)
    with django_capture_on_commit_callbacks(execute=True):
        rang = page.post("/console/seat/simulate/ring/", {"phone": "13700001111"})
    assert rang.status_code == 200 and "模拟来电已进入排队" in rang.content.decode()
    assert QueuedCall.objects.get().outcome == "offered" and Seat.objects.get(user=operator).state == "ringing"
    with django_capture_on_commit_callbacks(execute=True):
        page.post("/console/seat/simulate/answer/")
    assert [m["envelope"]["payload"]["type"] for m in ear.messages()] == ["call.bridged"]
    with django_capture_on_commit_callbacks(execute=True):
        done = page.post("/console/seat/simulate/hangup/")
    assert "录音已保存" in done.content.decode()
    recording = CallRecording.objects.get()
    listened = page.get(f"/console/recordings/{recording.pk}/")
    assert listened["Content-Type"] == "audio/wav" and listened.content.startswith(b"RIFF")
    # every step went through the signed webhook door and is stored like Twilio's own deliveries
    assert InboundMessage.objects.filter(response_status=200).count() >= 7
    with django_capture_on_commit_callbacks(execute=True):
        page.post("/console/seat/simulate/ring/")
        page.post("/console/seat/simulate/abandon/")
    assert CallbackTask.objects.get().reason.startswith("排队等待")


def test_the_simulator_is_refused_without_the_demo_switch_and_in_production(
    city: Any, user: Any, settings: Any
) -> None:
    page = Client()
    page.force_login(user("operator1"))
    settings.CALLCENTRE_DEMO = False
    assert page.post("/console/seat/simulate/ring/").status_code == 404
    settings.CALLCENTRE_DEMO = True
    settings.HOTLINE_PRODUCTION = True
    assert page.post("/console/seat/simulate/ring/").status_code == 404
    assert not QueuedCall.objects.exists()
