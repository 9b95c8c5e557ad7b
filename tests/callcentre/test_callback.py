"""未接来电回拨 from the console: the seat is rung through the REST API (fake server), the citizen
is dialled from the hotline number, a connected callback closes the task and is a call record."""

from __future__ import annotations

from typing import Any

from django.test import Client

from tests.callcentre.conftest import CC, LINE
from tickets.callcentre.models import CallbackAttempt, CallRecording
from tickets.intake.models import Call, CallbackTask

CALLER = "CA" + "a" * 32
FROM = "+8613700001234"


def test_a_callback_from_the_console_closes_the_task_and_is_a_call_record(
    city: Any, user: Any, post: Any, twilio_rest: Any
) -> None:
    # a caller hung up in the queue earlier (nobody signed in: straight to the IVR, hung up)
    post(f"{CC}/voice/", CallSid=CALLER, From=FROM, To=LINE)
    post("/webhooks/twilio/voice/status/", CallSid=CALLER, CallStatus="completed", CallDuration="3", From=FROM, To=LINE)
    task = CallbackTask.objects.get()
    operator = user("operator1")
    page = Client()
    page.force_login(operator)

    assert page.post(f"/console/callbacks/{task.pk}/dial/").status_code == 302
    rung = twilio_rest.created_calls()[-1]["form"]
    assert rung["To"] == f"client:seat-{operator.pk}" and rung["Url"].endswith(f"{CC}/callback/?task={task.pk}")
    attempt = CallbackAttempt.objects.get()
    leg = attempt.call.call_sid

    dial = post(
        f"{CC}/callback/?task={task.pk}", CallSid=leg, From=LINE, To=f"client:seat-{operator.pk}"
    ).content.decode()
    assert (
        f'callerId="{LINE}"' in dial
        and f"<Number>{FROM}</Number>" in dial
        and 'record="record-from-answer-dual"' in dial
    )
    assert CallbackTask.objects.get().state == "open"  # not before the citizen answered

    post(f"{CC}/callback/done/", CallSid=leg, DialCallStatus="completed", DialCallDuration="48")
    task.refresh_from_db()
    assert (task.state, task.done_by) == ("done", operator) and "48秒" in task.note
    post(f"{CC}/recording/", CallSid=leg, RecordingSid="RE" + "8" * 32, RecordingUrl="demo:RE8",
         RecordingStatus="completed", RecordingDuration="48")  # fmt: skip
    assert CallRecording.objects.get().call == Call.objects.get(call_sid=leg)
    # a second try on a done task is refused, nothing is rung
    before = len(twilio_rest.created_calls())
    page.post(f"/console/callbacks/{task.pk}/dial/")
    assert len(twilio_rest.created_calls()) == before


def test_a_callback_nobody_answered_leaves_the_task_open(city: Any, user: Any, post: Any, twilio_rest: Any) -> None:
    post(f"{CC}/voice/", CallSid=CALLER, From=FROM, To=LINE)
    post("/webhooks/twilio/voice/status/", CallSid=CALLER, CallStatus="no-answer", From=FROM, To=LINE)
    task = CallbackTask.objects.get()
    page = Client()
    page.force_login(user("operator1"))
    page.post(f"/console/callbacks/{task.pk}/dial/")
    leg = CallbackAttempt.objects.get().call.call_sid
    post(f"{CC}/callback/done/", CallSid=leg, DialCallStatus="no-answer", DialCallDuration="0")
    assert CallbackTask.objects.get().state == "open"
    assert CallbackAttempt.objects.get().outcome == "no-answer"


def test_without_a_phone_line_the_operator_reads_why_in_chinese(city: Any, user: Any, post: Any, settings: Any) -> None:
    """No Twilio account configured (the offline demo): 回拨 says so in the operator's words, no
    product name the operator does not know."""
    settings.TWILIO_ACCOUNT_SID = ""
    post(f"{CC}/voice/", CallSid=CALLER, From=FROM, To=LINE)
    post("/webhooks/twilio/voice/status/", CallSid=CALLER, CallStatus="completed", CallDuration="3", From=FROM, To=LINE)
    task = CallbackTask.objects.get()
    page = Client()
    page.force_login(user("operator1"))
    answer = page.post(f"/console/callbacks/{task.pk}/dial/", follow=True).content.decode()
    assert "未配置电话线路（呼叫中心账号），无法外呼回拨" in answer and "Twilio" not in answer
