"""A whole call through the call centre, driven by signed Twilio webhooks in their real order
(incoming → enqueue → waitUrl → the seat's leg → bridge → dial status → recording → enqueue
action), with the system's own calls to Twilio going to a local fake REST server."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import time_machine
from django.test import Client

from tests.callcentre.conftest import ACCOUNT, AUDIO, CC, LINE
from tickets.callcentre.models import CallRecording, QueuedCall, Seat
from tickets.callcentre.services.assignment import assign_sweep
from tickets.core.actors import Actor
from tickets.core.models import AccessAction, Ticket, TicketAccessLog
from tickets.intake.models import Call, CallbackTask
from tickets.intake.services import intake
from tickets.org.models import User

CALLER = "CA" + "c" * 32
FROM = "+8613912345678"
T0 = "2026-12-02 09:00:00+08:00"


def says(response: Any) -> str:
    return " ".join(re.findall(r"<Say[^>]*>(.*?)</Say>", response.content.decode(), re.S))


def test_a_call_is_queued_bridged_to_the_longest_idle_operator_and_joins_the_ticket(
    city: Any,
    user: Any,
    ready: Any,
    post: Any,
    twilio_rest: Any,
    seat_ear: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    earlier = intake.ticket_create(
        actor=Actor.of(user("operator2")), channel="phone", text="小区门口路灯不亮已经一周了", citizen_phone=FROM
    )
    with time_machine.travel(T0, tick=False) as clock:
        first = ready("operator1")  # ready first: idle longest
        clock.shift(5)
        second = ready("operator2")
        ear1, ear2 = seat_ear(first), seat_ear(second)
        clock.shift(5)

        # 1. incoming: greeted in Mandarin and queued on the general desk
        incoming = post(f"{CC}/voice/", CallSid=CALLER, From=FROM, To=LINE, CallStatus="ringing", AccountSid=ACCOUNT)
        xml = incoming.content.decode()
        assert "<Enqueue" in xml and ">hotline-general</Enqueue>" in xml
        assert 'waitUrl="http://testserver/webhooks/twilio/callcentre/wait/"' in xml
        assert 'action="http://testserver/webhooks/twilio/callcentre/left/"' in xml
        assert '<Say language="zh-CN">' in xml and "正在为您转接话务员" in says(incoming)
        # the assignment rang operator1's softphone through the REST API, and nobody else
        rung = twilio_rest.created_calls()
        assert [r["form"]["To"] for r in rung] == [f"client:seat-{first.pk}"]
        assert rung[0]["path"] == f"/2010-04-01/Accounts/{ACCOUNT}/Calls.json"
        assert rung[0]["form"]["Url"] == f"http://testserver{CC}/seat/?seat={first.pk}"
        leg_sid = "CA" + "0" * 31 + "1"
        assert Seat.objects.get(user=first).state == "ringing"
        assert Seat.objects.get(user=second).state == "ready"

        # 2. waitUrl: position and expected wait in Chinese
        clock.shift(4)
        waiting = post(
            f"{CC}/wait/", CallSid=CALLER, QueuePosition="1", QueueTime="4", AvgQueueTime="30", CurrentQueueSize="1"
        )
        assert "您是下一位" in says(waiting) and "0位" not in says(waiting)
        third = post(f"{CC}/wait/", CallSid=CALLER, QueuePosition="3", QueueTime="5", AvgQueueTime="150")
        assert "您前面还有2位来电人，预计等待约2分钟" in says(third)
        assert "<Leave" not in waiting.content.decode()

        # 3. operator1's leg is up: it dials the desk's queue, recorded, with the bridge URL
        seat_leg = post(f"{CC}/seat/?seat={first.pk}", CallSid=leg_sid, From=LINE, To=f"client:seat-{first.pk}")
        dial = seat_leg.content.decode()
        assert 'record="record-from-answer-dual"' in dial
        assert f'<Queue method="POST" url="http://testserver{CC}/bridge/">hotline-general</Queue>' in dial
        assert ear1.messages() == [] and ear2.messages() == []  # no pop before the bridge

        # 4. the bridge: the pop goes to operator1 only, with the caller's history
        clock.shift(8)
        post(f"{CC}/bridge/", CallSid=CALLER, DequeingCallSid=leg_sid, QueueSid="QU" + "1" * 32, QueueTime="12")
        popped = ear1.messages()
        assert len(popped) == 1
        payload = popped[0]["envelope"]["payload"]
        assert (payload["type"], payload["operator"], payload["call_sid"]) == ("call.bridged", first.pk, CALLER)
        assert [t["number"] for t in payload["history"]] == [earlier.number]
        assert payload["repeat_caller"] is True
        assert ear2.messages() == []
        queued = QueuedCall.objects.get(call__call_sid=CALLER)
        assert (queued.outcome, queued.operator, queued.wait_seconds) == ("bridged", first, 12)
        assert Seat.objects.get(user=first).state == "on_call"

        # 5. operator1 files the ticket from the pre-filled form: it carries the CallSid
        console = Client()
        console.force_login(first)
        with django_capture_on_commit_callbacks(execute=True):
            filed = console.post(
                "/console/tickets/",
                {
                    "kind": "complaint",
                    "urgency": "normal",
                    "text": "小区门口路灯还是不亮，晚上出行不安全",
                    "citizen_phone": "13912345678",
                    "call_sid": CALLER,
                },
            )
        assert filed.status_code == 302
        ticket = Ticket.objects.exclude(pk=earlier.pk).get()
        assert list(ticket.calls.values_list("call_sid", flat=True)) == [CALLER]

        # 6. the operator hangs up: handle time, 话后处理
        clock.shift(95)
        post(f"{CC}/dial/", CallSid=leg_sid, DialCallStatus="completed", DialCallDuration="95")
        assert QueuedCall.objects.get(pk=queued.pk).handle_seconds == 95
        assert Seat.objects.get(user=first).state == "wrap_up"

        # 7. the recording joins the call and its ticket
        rec_url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/RE{'9' * 32}"
        post(f"{CC}/recording/", CallSid=leg_sid, RecordingSid="RE" + "9" * 32, RecordingUrl=rec_url,
             RecordingStatus="completed", RecordingDuration="95")  # fmt: skip
        recording = CallRecording.objects.get()
        assert (recording.ticket, recording.duration_seconds) == (ticket, 95)

        # 8. the caller's enqueue action: bridged; the call's status: no callback task
        left = post(f"{CC}/left/", CallSid=CALLER, QueueResult="bridged", QueueTime="12")
        assert "<Hangup" in left.content.decode()
        post(
            "/webhooks/twilio/voice/status/",
            CallSid=CALLER,
            CallStatus="completed",
            CallDuration="120",
            From=FROM,
            To=LINE,
        )
        assert not CallbackTask.objects.exists()

        # 话后处理 ends after the configured time: ready again
        clock.shift(31)
        assign_sweep()
        assert Seat.objects.get(user=first).state == "ready"

    # listening goes through the server (audio fetched from "Twilio" with the account's auth), logged
    audio = console.get(f"/console/recordings/{recording.pk}/")
    assert audio.status_code == 200 and audio.content == AUDIO and audio["Content-Type"] == "audio/mpeg"
    fetched = [r for r in twilio_rest.requests if r["method"] == "GET"]
    assert urlsplit(rec_url).path + ".mp3" == fetched[-1]["path"] and fetched[-1]["auth"].startswith("Basic ")
    assert TicketAccessLog.objects.filter(ticket=ticket, user=first, action=AccessAction.LISTEN).count() == 1
    unit_staff = Client()
    unit_staff.force_login(User.objects.filter(role="unit_staff").first())
    assert unit_staff.get(f"/console/recordings/{recording.pk}/").status_code == 404


def test_a_caller_who_hangs_up_in_the_queue_becomes_a_callback_task_with_the_wait(
    city: Any, ready: Any, post: Any, twilio_rest: Any
) -> None:
    operator = ready("operator1")
    with time_machine.travel(T0, tick=False):
        post(f"{CC}/voice/", CallSid=CALLER, From=FROM, To=LINE, CallStatus="ringing")
        assert Seat.objects.get(user=operator).state == "ringing"
        post(f"{CC}/wait/", CallSid=CALLER, QueuePosition="1", QueueTime="20", AvgQueueTime="0")
        post(f"{CC}/left/", CallSid=CALLER, QueueResult="hangup", QueueTime="37")
        post(
            "/webhooks/twilio/voice/status/",
            CallSid=CALLER,
            CallStatus="completed",
            CallDuration="40",
            From=FROM,
            To=LINE,
        )
    task = CallbackTask.objects.get()
    assert task.phone == FROM and task.reason == "排队等待37秒后挂断" and task.state == "open"
    queued = QueuedCall.objects.get()
    assert (queued.outcome, queued.wait_seconds) == ("abandoned", 37)
    assert Seat.objects.get(user=operator).state == "ready"  # the offer went with the caller


def test_a_withheld_number_hanging_up_in_the_queue_counts_as_lost_without_a_callback(
    city: Any, ready: Any, post: Any
) -> None:
    ready("operator1")
    post(f"{CC}/voice/", CallSid=CALLER, From="Anonymous", To=LINE, CallStatus="ringing")
    post(f"{CC}/left/", CallSid=CALLER, QueueResult="hangup", QueueTime="40")
    assert QueuedCall.objects.get().outcome == "abandoned"
    assert not CallbackTask.objects.exists()


def test_a_desk_choice_without_a_call_is_refused_and_stores_no_call(city: Any, ready: Any, post: Any) -> None:
    ready("operator1")
    answer = post(f"{CC}/choose/", Digits="1")
    assert "<Hangup" in answer.content.decode()
    assert not Call.objects.exists() and not QueuedCall.objects.exists()


def test_a_status_with_a_non_ascii_duration_still_records_the_status(city: Any, post: Any) -> None:
    post(f"{CC}/voice/", CallSid=CALLER, From=FROM, To=LINE, CallStatus="ringing")
    post("/webhooks/twilio/voice/status/", CallSid=CALLER, CallStatus="completed", CallDuration="²", From=FROM, To=LINE)
    call = Call.objects.get(call_sid=CALLER)
    assert call.status == "completed" and call.duration_seconds is None


def test_with_nobody_signed_in_the_caller_leaves_the_matter_to_the_speech_ivr(city: Any, post: Any) -> None:
    answer = post(f"{CC}/voice/", CallSid=CALLER, From=FROM, To=LINE, CallStatus="ringing")
    xml = answer.content.decode()
    assert "<Enqueue" not in xml and "<Gather" in xml and "目前话务员全忙" in says(answer)
    # offered to the human service in its hours and not answered: it counts against the 接通率
    assert QueuedCall.objects.get().outcome == "overflow" and Call.objects.get().call_sid == CALLER


def test_a_caller_waiting_past_the_overflow_time_is_sent_to_the_ivr(
    city: Any, settings: Any, ready: Any, post: Any
) -> None:
    settings.CALLCENTRE_OVERFLOW_SECONDS = 60
    ready("operator1")
    post(f"{CC}/voice/", CallSid=CALLER, From=FROM, To=LINE, CallStatus="ringing")
    assert "<Leave" in post(f"{CC}/wait/", CallSid=CALLER, QueuePosition="3", QueueTime="61").content.decode()
    left = post(f"{CC}/left/", CallSid=CALLER, QueueResult="leave", QueueTime="61")
    assert "<Gather" in left.content.decode() and "话务员暂时无法接听" in says(left)
    assert QueuedCall.objects.get().outcome == "overflow" and not CallbackTask.objects.exists()


def test_an_unsigned_bridge_is_refused_and_changes_nothing(city: Any, ready: Any, post: Any, web: Client) -> None:
    ready("operator1")
    post(f"{CC}/voice/", CallSid=CALLER, From=FROM, To=LINE, CallStatus="ringing")
    forged = web.post(f"{CC}/bridge/", {"CallSid": CALLER, "DequeingCallSid": "CA" + "f" * 32, "QueueTime": "1"})
    assert forged.status_code == 403
    assert QueuedCall.objects.get().outcome == "offered"


def test_a_call_joins_an_existing_ticket_of_the_caller_from_the_panel(
    city: Any, user: Any, ready: Any, post: Any
) -> None:
    earlier = intake.ticket_create(
        actor=Actor.of(user("operator2")), channel="phone", text="小区门口路灯不亮已经一周了", citizen_phone=FROM
    )
    operator = ready("operator1")
    post(f"{CC}/voice/", CallSid=CALLER, From=FROM, To=LINE)
    post(f"{CC}/seat/?seat={operator.pk}", CallSid="CA" + "e" * 32, From=LINE)
    post(f"{CC}/bridge/", CallSid=CALLER, DequeingCallSid="CA" + "e" * 32, QueueTime="3")
    other = Client()
    other.force_login(user("operator2"))  # not on this call
    assert other.post("/console/seat/link/", {"ticket": earlier.pk, "call_sid": CALLER}).status_code == 404
    page = Client()
    page.force_login(operator)
    assert page.post("/console/seat/link/", {"ticket": "x", "call_sid": CALLER}).status_code == 400
    linked = page.post("/console/seat/link/", {"ticket": earlier.pk, "call_sid": CALLER})
    assert linked.json() == {"ticket": earlier.number}
    assert Call.objects.get(call_sid=CALLER).ticket == earlier


def test_crosswise_offers_settle_each_caller_with_the_operator_twilio_connected(
    city: Any, ready: Any, post: Any, seat_ear: Any
) -> None:
    """Twilio gives a seat's leg the head of the queue, whoever our offer named: offers swap."""
    first, second = ready("operator1"), ready("operator2")
    ear1, ear2 = seat_ear(first), seat_ear(second)
    older, newer = "CA" + "1" * 32, "CA" + "2" * 32
    post(f"{CC}/voice/", CallSid=older, From=FROM, To=LINE)
    post(f"{CC}/voice/", CallSid=newer, From="+8613900000002", To=LINE)
    assert QueuedCall.objects.get(call__call_sid=older).offered_to.user == first
    # operator2's phone answers first and dequeues the head: the older caller (offered to operator1)
    post(f"{CC}/seat/?seat={second.pk}", CallSid="CA" + "b" * 32, From=LINE)
    post(f"{CC}/bridge/", CallSid=older, DequeingCallSid="CA" + "b" * 32, QueueTime="5")
    assert QueuedCall.objects.get(call__call_sid=newer).offered_to.user == first  # inherited
    assert Seat.objects.get(user=first).state == "ringing"  # its phone still rings
    post(f"{CC}/seat/?seat={first.pk}", CallSid="CA" + "a" * 32, From=LINE)
    post(f"{CC}/bridge/", CallSid=newer, DequeingCallSid="CA" + "a" * 32, QueueTime="6")
    assert [m["envelope"]["payload"]["call_sid"] for m in ear2.messages()] == [older]
    assert [m["envelope"]["payload"]["call_sid"] for m in ear1.messages()] == [newer]
    assert {q.operator for q in QueuedCall.objects.all()} == {first, second}
