"""转接 to another desk and 三方通话 with a unit's liaison (GB/T 33358), from the operator's console,
driven by signed Twilio webhooks; what the system asked of Twilio is read from the fake REST server."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import time_machine
from django.test import Client

from tests.callcentre.conftest import CC, LINE
from tickets.callcentre import selectors
from tickets.callcentre.models import CallRecording, CallTransfer, Desk, QueuedCall, Seat
from tickets.callcentre.services import seats
from tickets.callcentre.services.assignment import assign_sweep
from tickets.intake.models import CallbackTask
from tickets.org.models import Unit, User

CALLER = "CA" + "a" * 32
LATER = "CA" + "c" * 32
LEG1, LEG2 = "CA" + "1" * 32, "CA" + "2" * 32
FROM = "+8613912345678"
ENTERPRISE_LINE = "+8612345001"
T0 = "2026-12-02 09:00:00+08:00"


def _desks() -> tuple[Desk, Desk]:
    general, _ = Desk.objects.get_or_create(code="general", defaults={"name": "普通话综合", "is_default": True})
    enterprise = Desk.objects.create(code="enterprise", name="企业专席", called_number=ENTERPRISE_LINE)
    return general, enterprise


def _console(operator: User) -> Client:
    page = Client()
    page.force_login(operator)
    return page


def _bridged(post: Any, operator: User, *, queue_time: str = "8") -> None:
    post(f"{CC}/voice/", CallSid=CALLER, From=FROM, To=LINE, CallStatus="ringing")
    post(f"{CC}/seat/?seat={operator.pk}", CallSid=LEG1, From=LINE, To=f"client:seat-{operator.pk}")
    post(f"{CC}/bridge/", CallSid=CALLER, DequeingCallSid=LEG1, QueueSid="QU" + "1" * 32, QueueTime=queue_time)


def test_a_transferred_caller_waits_in_the_desks_transfer_queue_ahead_of_later_callers(
    city: Any,
    user: Any,
    ready: Any,
    post: Any,
    twilio_rest: Any,
    seat_ear: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    _general, enterprise = _desks()
    with time_machine.travel(T0, tick=False) as clock:
        first = ready("operator1")  # general desk
        second = user("operator2")  # enterprise desk, finishing another call (话后处理 until T0 + 30 s)
        seat2 = seats.seat_for(second)
        seat2.skills.set([enterprise])
        seats.seat_move(seat=seat2, to="wrap_up", reason="上一通话结束")
        ear1, ear2 = seat_ear(first), seat_ear(second)

        _bridged(post, first, queue_time="8")
        clock.shift(10)  # a later caller reaches the enterprise desk and waits
        post(f"{CC}/voice/", CallSid=LATER, From="+8613900000009", To=ENTERPRISE_LINE, CallStatus="ringing")
        assert QueuedCall.objects.get(call__call_sid=LATER).outcome == "waiting"
        ear1.messages()

        # operator1 transfers the caller to 企业专席 from the console
        clock.shift(5)
        page = _console(first)
        assert "转接到专席" in page.get("/console/").content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            moved = page.post("/console/seat/transfer/", {"desk": enterprise.pk})
        assert moved.status_code == 200 and "已转接，来电人正在该专席排队" in moved.content.decode()
        [redirect] = twilio_rest.updated_calls()
        assert redirect["sid"] == CALLER
        twiml = redirect["twiml"]
        assert '<Say language="zh-CN">正在为您转接到企业专席，请稍候。</Say>' in twiml
        assert ">hotline-enterprise-transfer</Enqueue>" in twiml
        assert f'waitUrl="http://testserver{CC}/wait/?transfer=1"' in twiml
        assert f'action="http://testserver{CC}/left/?transfer=1"' in twiml
        queued = QueuedCall.objects.get(call__call_sid=CALLER)
        assert (queued.desk, queued.outcome, queued.wait_seconds) == (enterprise, "waiting", 8)
        assert queued.transferred_at == datetime.fromisoformat("2026-12-02 09:00:15+08:00")
        handover = CallTransfer.objects.get()
        assert (handover.kind, handover.operator, handover.from_desk.code, handover.to_desk) == (
            "transfer", first, "general", enterprise
        )  # fmt: skip
        assert (handover.leg_call_sid, handover.talk_seconds) == (LEG1, 15)
        assert Seat.objects.get(user=first).state == "wrap_up"

        # the redirect ended operator1's <Dial>: a hang-up for their leg, nothing else moves
        hung = post(f"{CC}/dial/", CallSid=LEG1, DialCallStatus="completed", DialCallDuration="15")
        assert "<Hangup" in hung.content.decode()
        assert QueuedCall.objects.get(call__call_sid=CALLER).outcome == "waiting"
        # the transfer queue's waitUrl is not answered from the first queue's deliveries
        waiting = post(f"{CC}/wait/?transfer=1", CallSid=CALLER, QueuePosition="1", QueueTime="0")
        assert "您是下一位" in waiting.content.decode()
        # operator1's recording (ended with the transfer) still joins the call
        post(f"{CC}/recording/", CallSid=LEG1, RecordingSid="RE" + "1" * 32, RecordingStatus="completed",
             RecordingUrl="https://api.twilio.com/r/RE1", RecordingDuration="7")  # fmt: skip
        assert CallRecording.objects.get().call.call_sid == CALLER

        # operator2 becomes free: the transferred caller (who called first) is offered, not the later one
        clock.shift(16)
        assign_sweep()
        assert QueuedCall.objects.get(call__call_sid=CALLER).offered_to == seat2
        assert QueuedCall.objects.get(call__call_sid=LATER).outcome == "waiting"
        assert twilio_rest.created_calls()[-1]["form"]["To"] == f"client:seat-{second.pk}"
        leg = post(f"{CC}/seat/?seat={second.pk}", CallSid=LEG2, From=LINE, To=f"client:seat-{second.pk}")
        assert ">hotline-enterprise-transfer</Queue>" in leg.content.decode()

        post(f"{CC}/bridge/", CallSid=CALLER, DequeingCallSid=LEG2, QueueSid="QU" + "2" * 32, QueueTime="16")
        popped = [m["envelope"]["payload"] for m in ear2.messages()]
        assert [(p["type"], p["call_sid"]) for p in popped] == [("call.bridged", CALLER)]
        assert ear1.messages() == []
        queued = QueuedCall.objects.get(call__call_sid=CALLER)
        assert (queued.outcome, queued.operator, queued.wait_seconds) == ("bridged", second, 8)
        # one call offered and answered within 15 s: the transfer is not a second call
        start, end = selectors.local_day_bounds(datetime.fromisoformat(T0).date())
        total = selectors.service_levels(start=start, end=end)["total"]
        assert (total["offered"], total["answered"], total["answered_within_target"]) == (1, 1, 1)


def test_a_three_way_call_puts_caller_and_operator_in_a_conference_and_dials_the_units_liaison(
    city: Any, ready: Any, post: Any, twilio_rest: Any, django_capture_on_commit_callbacks: Any
) -> None:
    water = Unit.objects.create(
        code="u-water3", name="市水务集团", kind="utility", liaison_name="王工", liaison_phone="13700001111"
    )
    with time_machine.travel(T0, tick=False) as clock:
        operator = ready("operator1")
        _bridged(post, operator)
        clock.shift(20)
        page = _console(operator)
        assert "市水务集团（王工）" in page.get("/console/").content.decode()
        joined = page.post("/console/seat/conference/", {"unit": water.pk})
        assert joined.status_code == 200 and "正在呼叫承办单位联络人" in joined.content.decode()

        caller, leg = twilio_rest.updated_calls()
        room = f">hotline-3way-{CALLER}</Conference>"
        assert caller["sid"] == CALLER and room in caller["twiml"]
        assert 'endConferenceOnExit="true"' in caller["twiml"] and 'record="record-from-start"' in caller["twiml"]
        assert f'recordingStatusCallback="http://testserver{CC}/recording/?call={CALLER}"' in caller["twiml"]
        assert "正在为您接通承办单位联络人" in caller["twiml"]
        assert leg["sid"] == LEG1 and room in leg["twiml"] and 'endConferenceOnExit="false"' in leg["twiml"]
        assert f'action="http://testserver{CC}/dial/?conference=1"' in leg["twiml"]
        liaison = twilio_rest.created_calls()[-1]["form"]
        assert (liaison["To"], liaison["From"]) == ("+8613700001111", LINE)
        assert room in liaison["Twiml"] and "三方通话" in liaison["Twiml"]
        three_way = CallTransfer.objects.get()
        assert (three_way.kind, three_way.unit, three_way.liaison_phone) == ("conference", water, "+8613700001111")
        assert three_way.liaison_call_sid.startswith("CA") and three_way.ended_at is None
        assert "三方通话中：市水务集团" in page.get("/console/").content.decode()

        # the queue's <Dial> on the operator's leg and the caller's <Enqueue> end: both join the room
        assert room in post(f"{CC}/dial/", CallSid=LEG1, DialCallStatus="completed").content.decode()
        assert room in post(f"{CC}/left/", CallSid=CALLER, QueueResult="bridged", QueueTime="8").content.decode()
        assert Seat.objects.get(user=operator).state == "on_call"

        # the three-way call ends for the operator: handle time from the bridge, then 话后处理
        clock.shift(100)
        with django_capture_on_commit_callbacks(execute=True):
            done = post(f"{CC}/dial/?conference=1", CallSid=LEG1, DialCallStatus="completed", DialCallDuration="95")
        assert "<Hangup" in done.content.decode()
        assert Seat.objects.get(user=operator).state == "wrap_up"
        assert QueuedCall.objects.get().handle_seconds == 120
        assert CallTransfer.objects.get().ended_at is not None
        # the conference's recording names the caller's call in its callback URL
        post(f"{CC}/recording/?call={CALLER}", RecordingSid="RE" + "3" * 32, RecordingStatus="completed",
             RecordingUrl="https://api.twilio.com/r/RE3", RecordingDuration="95")  # fmt: skip
        assert CallRecording.objects.get().call.call_sid == CALLER


def test_transfers_and_three_way_calls_are_refused_with_the_reason_and_ask_nothing_of_twilio(
    city: Any, user: Any, ready: Any, post: Any, twilio_rest: Any
) -> None:
    general, enterprise = _desks()
    no_phone = Unit.objects.create(code="u-nophone", name="某街道", kind="street")
    operator = ready("operator1")
    page = _console(operator)
    nothing = page.post("/console/seat/transfer/", {"desk": enterprise.pk})
    assert nothing.status_code == 404 and "当前没有正在进行的通话" in nothing.content.decode()
    _bridged(post, operator)
    same = page.post("/console/seat/transfer/", {"desk": general.pk})
    assert same.status_code == 400 and "来电人已在该专席" in same.content.decode()
    empty = page.post("/console/seat/transfer/", {"desk": enterprise.pk})  # nobody signed in there
    assert empty.status_code == 409 and "该专席暂无话务员在线" in empty.content.decode()
    assert page.post("/console/seat/transfer/", {"desk": "x"}).status_code == 400
    unreachable = page.post("/console/seat/conference/", {"unit": no_phone.pk})
    assert unreachable.status_code == 400 and "该单位未登记联络电话" in unreachable.content.decode()
    assert twilio_rest.updated_calls() == [] and len(twilio_rest.created_calls()) == 1  # the seat's ring only
    assert QueuedCall.objects.get().outcome == "bridged" and not CallTransfer.objects.exists()


def test_a_transferred_caller_who_hangs_up_in_the_transfer_queue_stays_answered_and_is_called_back(
    city: Any, user: Any, ready: Any, post: Any, twilio_rest: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _general, enterprise = _desks()
    with time_machine.travel(T0, tick=False) as clock:
        first = ready("operator1")
        busy = seats.seat_for(user("operator2"))
        busy.skills.set([enterprise])
        seats.seat_move(seat=busy, to="on_call", reason="另一通话")  # signed in there, not free
        _bridged(post, first, queue_time="4")
        clock.shift(30)
        with django_capture_on_commit_callbacks(execute=True):
            assert _console(first).post("/console/seat/transfer/", {"desk": enterprise.pk}).status_code == 200
        clock.shift(25)
        post(f"{CC}/left/?transfer=1", CallSid=CALLER, QueueResult="hangup", QueueTime="25")
    queued = QueuedCall.objects.get()
    assert (queued.outcome, queued.operator, queued.wait_seconds, queued.handle_seconds) == ("bridged", first, 4, 30)
    task = CallbackTask.objects.get()
    assert (task.phone, task.reason, task.state) == (FROM, "转接后排队等待25秒挂断", "open")
    start, end = selectors.local_day_bounds(datetime.fromisoformat(T0).date())
    total = selectors.service_levels(start=start, end=end)["total"]
    assert (total["offered"], total["answered"], total["abandoned"]) == (1, 1, 0)
