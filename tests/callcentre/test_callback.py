"""未接来电回拨 from the console: the seat is rung through the REST API (fake server), the citizen
is dialled from the hotline number, a connected callback closes the task and is a call record.
Without a phone line (a desk phone, the demo) the operator records the callback by hand."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client
from rest_framework.test import APIClient

from tests.callcentre.conftest import CC, LINE
from tickets.callcentre.models import CallbackAttempt, CallRecording
from tickets.intake.models import Call, CallbackTask

CALLER = "CA" + "a" * 32
FROM = "+8613700001234"


def _missed_call(post: Any) -> CallbackTask:
    """A caller hung up before anyone answered (nobody signed in: straight to the IVR): a callback task."""
    post(f"{CC}/voice/", CallSid=CALLER, From=FROM, To=LINE)
    post("/webhooks/twilio/voice/status/", CallSid=CALLER, CallStatus="completed", CallDuration="3", From=FROM, To=LINE)
    return CallbackTask.objects.get()


def test_a_callback_from_the_console_closes_the_task_and_is_a_call_record(
    city: Any, user: Any, post: Any, twilio_rest: Any
) -> None:
    task = _missed_call(post)
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
    task = _missed_call(post)
    page = Client()
    page.force_login(user("operator1"))
    answer = page.post(f"/console/callbacks/{task.pk}/dial/", follow=True).content.decode()
    assert "未配置电话线路（呼叫中心账号），无法外呼回拨" in answer and "Twilio" not in answer


def test_without_a_phone_line_the_operator_records_the_callback_by_hand(
    city: Any, user: Any, post: Any, settings: Any
) -> None:
    """A centre calling back from a desk phone (or the demo, with no phone line): 登记回拨结果 closes
    the task with its outcome and note; a missing outcome is refused with what was typed kept, and a
    task already recorded is refused by name."""
    settings.TWILIO_ACCOUNT_SID = ""
    task = _missed_call(post)
    operator = user("operator1")
    page = Client()
    page.force_login(operator)
    console = page.get("/console/").content.decode()
    assert "登记回拨结果" in console and f'action="/console/callbacks/{task.pk}/done/"' in console
    assert "137 0000 1234" in console  # the number as the phone filter writes it

    refused = page.post(f"/console/callbacks/{task.pk}/done/", {"note": "打了两次"}, follow=True).content.decode()
    assert "回拨 137 0000 1234：请选择回拨结果" in refused
    assert re.search(r'<select name="outcome" id="cbo-\d+" required aria-invalid="true" autofocus', refused)
    assert 'value="打了两次"' in refused  # what the operator typed comes back
    assert re.search(rf'data-testid="callback-done-{task.pk}" open', refused)  # the form is open
    assert CallbackTask.objects.get().state == "open"

    done = page.post(
        f"/console/callbacks/{task.pk}/done/", {"outcome": "reached", "note": " 市民称问题已自行解决 "}, follow=True
    ).content.decode()
    assert "已登记回拨结果：137 0000 1234" in done
    task.refresh_from_db()
    assert (task.state, task.done_by, task.note) == ("done", operator, "已联系上：市民称问题已自行解决")
    assert f"callback-task-{task.pk}" not in done and "没有待回拨的未接来电。" in done  # off the list

    again = page.post(f"/console/callbacks/{task.pk}/done/", {"outcome": "no_answer"}, follow=True).content.decode()
    assert "回拨 137 0000 1234：该回拨任务已于" in again and "登记为已回拨，无需重复登记" in again
    task.refresh_from_db()
    assert task.note == "已联系上：市民称问题已自行解决"  # the first record stands
    unit = Client()
    unit.force_login(user("rsj_staff"))
    assert unit.post(f"/console/callbacks/{task.pk}/done/", {"outcome": "reached"}).status_code == 404


def test_no_answer_by_hand_keeps_the_callback_open_with_the_try_written_on_it(
    city: Any, user: Any, post: Any, settings: Any
) -> None:
    """无人接听 is a try, not a callback done: the task stays on the list with the try shown, and the
    call that reaches the citizen closes it with both lines kept."""
    settings.TWILIO_ACCOUNT_SID = ""
    task = _missed_call(post)
    page = Client()
    page.force_login(user("operator1"))

    tried = page.post(
        f"/console/callbacks/{task.pk}/done/", {"outcome": "no_answer", "note": "响铃无人接"}, follow=True
    )
    answer = tried.content.decode()
    assert "已记录无人接听：137 0000 1234，任务保留在待回拨列表" in answer
    task.refresh_from_db()
    assert task.state == "open" and task.done_at is None and task.done_by is None
    assert re.fullmatch(r"\d\d-\d\d \d\d:\d\d 无人接听：响铃无人接", task.note)
    assert f"callback-task-{task.pk}" in answer and "无人接听：响铃无人接" in answer  # still listed, try shown

    page.post(f"/console/callbacks/{task.pk}/done/", {"outcome": "reached"}, follow=True)
    task.refresh_from_db()
    assert task.state == "done"
    assert task.note.splitlines()[0].endswith("无人接听：响铃无人接") and task.note.splitlines()[1] == "已联系上"


def test_the_api_records_a_callback_outcome_by_the_same_rule(city: Any, user: Any, post: Any) -> None:
    """An API client recording 无人接听 keeps the task open, as the console does; an unknown outcome is
    a 400 naming the field and changes nothing; without an outcome the task closes as before."""
    task = _missed_call(post)
    api = APIClient()
    api.force_authenticate(user("operator1"))
    url = f"/api/callbacks/{task.pk}/done/"

    refused = api.post(url, {"outcome": "busy"}, format="json")
    assert refused.status_code == 400 and refused.json()["field"] == "outcome"
    task.refresh_from_db()
    assert (task.state, task.note) == ("open", "")

    tried = api.post(url, {"outcome": "no_answer", "note": "关机"}, format="json")
    assert tried.status_code == 200 and tried.json()["state"] == "open"
    task.refresh_from_db()
    assert task.note.endswith("无人接听：关机")

    done = api.post(url, {"outcome": "wrong_number"}, format="json")
    assert done.status_code == 200 and done.json()["state"] == "done"
    task.refresh_from_db()
    assert task.note.splitlines()[-1] == "号码有误"
