"""Phone intake through the real Twilio Voice webhooks: IVR TwiML, drafts, voicemail, missed calls."""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.intake.conftest import payload, twilio_post
from tickets.core.actors import Actor
from tickets.core.models import Ticket
from tickets.core.selectors import draft_queue
from tickets.intake.models import Call, CallbackTask, InboundMessage, PhoneLine
from tickets.intake.services import calls, intake
from tickets.sla.services import policy

VOICE = "/webhooks/twilio/voice/"
GATHER = "/webhooks/twilio/voice/gather/"
RECORDING = "/webhooks/twilio/voice/recording/"
STATUS = "/webhooks/twilio/voice/status/"
SID = "CA11111111111111111111111111111111"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def say_texts(response: Any) -> list[str]:
    return re.findall(r"<Say[^>]*>(.*?)</Say>", response.content.decode(), re.S)


def test_a_call_is_answered_in_mandarin_with_a_menu_and_a_voicemail_fallback(city: Any, web: Any) -> None:
    response = twilio_post(web, VOICE, payload("voice_incoming"))

    assert response.status_code == 200
    xml = response.content.decode()
    assert '<Say language="zh-CN">您好，这里是12345政务服务便民热线。</Say>' in xml
    gather = re.search(r"<Gather[^>]*>", xml).group(0)  # type: ignore[union-attr]
    assert 'input="speech dtmf"' in gather and 'language="zh-CN"' in gather
    assert "投诉请按3，举报请按4，建议请按5" in xml
    assert "<Record" in xml and 'action="/webhooks/twilio/voice/recording/"' in xml
    call = Call.objects.get()
    assert (call.call_sid, call.phone, call.after_hours) == (SID, "+8613800138000", False)


def test_a_wrong_key_hears_the_menu_once_more_then_the_voicemail(city: Any, web: Any) -> None:
    twilio_post(web, VOICE, payload("voice_incoming"))
    wrong = twilio_post(web, GATHER + "?step=kind", payload("voice_gather_speech", SpeechResult="", Digits="9"))
    xml = wrong.content.decode()
    assert "输入有误，请重新选择。" in say_texts(wrong) and "举报请按4" in xml
    assert 'action="/webhooks/twilio/voice/gather/?step=kind&amp;retry=1"' in xml

    again = twilio_post(
        web, GATHER + "?step=kind&retry=1", payload("voice_gather_speech", SpeechResult="", Digits="9")
    )
    assert "<Record" in again.content.decode() and "输入有误" not in again.content.decode()

    report = twilio_post(
        web, GATHER + "?step=kind", payload("voice_gather_speech", CallSid="CA5", SpeechResult="", Digits="4")
    )
    assert "kind=report" in report.content.decode()


def test_speech_makes_a_draft_ticket_in_the_operator_queue(city: Any, web: Any, user: Any) -> None:
    twilio_post(web, VOICE, payload("voice_incoming"))
    kind = twilio_post(web, GATHER + "?step=kind", payload("voice_gather_speech", SpeechResult="", Digits="3"))
    assert 'action="/webhooks/twilio/voice/gather/?step=matter&amp;kind=complaint"' in kind.content.decode()

    answer = twilio_post(web, GATHER + "?step=matter&kind=complaint", payload("voice_gather_speech"))

    ticket = Ticket.objects.get()
    assert (ticket.channel, ticket.state, ticket.kind) == ("phone", "draft", "complaint")
    assert ticket.citizen_phone == "+8613800138000" and ticket.external_ref == SID
    assert "油烟" in ticket.text
    assert ticket.events.get(action="created").data["raw"]["speech_confidence"] == pytest.approx(0.8712)
    assert list(draft_queue(user("operator1"))) == [ticket]
    assert " ".join(ticket.number) in "".join(say_texts(answer))
    assert Call.objects.get().ticket == ticket
    # The caller is told the number by SMS too (the outbox, with no Twilio credentials).
    assert ticket.sms.get().purpose == "received"


def test_a_long_first_utterance_is_the_matter_itself(city: Any, web: Any) -> None:
    twilio_post(web, VOICE, payload("voice_incoming"))
    twilio_post(
        web, GATHER + "?step=kind", payload("voice_gather_speech", SpeechResult="我要投诉楼下烧烤店油烟扰民很严重")
    )

    ticket = Ticket.objects.get()
    assert ticket.kind == "complaint" and ticket.text.startswith("我要投诉")


@pytest.mark.drill
def test_a_retried_gather_creates_nothing_new(city: Any, web: Any) -> None:
    twilio_post(web, VOICE, payload("voice_incoming"))
    first = twilio_post(web, GATHER + "?step=matter&kind=help", payload("voice_gather_speech"))
    second = twilio_post(web, GATHER + "?step=matter&kind=help", payload("voice_gather_speech"))
    retried_call = twilio_post(web, VOICE, payload("voice_incoming"))

    assert first.content == second.content
    assert retried_call.status_code == 200
    assert Ticket.objects.count() == 1 and Call.objects.count() == 1


@pytest.mark.drill
def test_a_voicemail_makes_one_draft_however_often_twilio_reports_it(city: Any, web: Any) -> None:
    twilio_post(
        web, VOICE, payload("voice_incoming", CallSid="CA22222222222222222222222222222222", From="+8613912345678")
    )
    twilio_post(web, RECORDING, payload("voice_recording"))
    twilio_post(web, RECORDING, payload("voice_recording"))
    twilio_post(web, RECORDING, payload("voice_recording", RecordingStatus="completed"))

    ticket = Ticket.objects.get()
    assert (ticket.channel, ticket.state, ticket.citizen_phone) == ("phone", "draft", "+8613912345678")
    assert "录音" in ticket.text
    assert Call.objects.get().recording_url.endswith("RE33333333333333333333333333333333")


def test_missed_and_abandoned_calls_become_callback_tasks(city: Any, web: Any, api: Any) -> None:
    twilio_post(web, STATUS, payload("voice_status_no_answer"))
    twilio_post(web, STATUS, payload("voice_status_no_answer"))  # retried delivery

    task = CallbackTask.objects.get()
    assert (task.phone, task.reason, task.state) == ("+8613700137000", "无人接听", "open")
    assert Call.objects.get().ended_at is not None

    # Hung up during the greeting: no ticket, no voicemail → call back as well.
    twilio_post(web, VOICE, payload("voice_incoming"))
    twilio_post(web, STATUS, payload("voice_incoming", CallStatus="completed", CallDuration="9"))
    abandoned = CallbackTask.objects.get(call__call_sid=SID)
    assert abandoned.reason == "来电人未留下诉求即挂断"
    assert Call.objects.get(call_sid=SID).duration_seconds == 9

    listed = api("operator1").get("/api/callbacks/").json()
    assert [row["phone"] for row in listed] == ["+8613700137000", "+8613800138000"]
    done = api("operator1").post(f"/api/callbacks/{task.pk}/done/", {"note": "已回拨，市民改天再来电"}, format="json")
    assert done.status_code == 200 and done.json()["state"] == "done"


def test_a_missed_call_from_a_withheld_number_makes_no_callback_nobody_could_make(city: Any, web: Any) -> None:
    sid = "CA44444444444444444444444444444444"
    twilio_post(web, VOICE, payload("voice_incoming", CallSid=sid, From="Anonymous"))
    twilio_post(web, STATUS, payload("voice_incoming", CallSid=sid, From="Anonymous", CallStatus="completed"))

    call = Call.objects.get(call_sid=sid)
    assert call.phone == "" and call.status == "completed"  # the missed call itself is kept
    assert not CallbackTask.objects.exists()


def test_a_completed_call_with_a_ticket_needs_no_callback(city: Any, web: Any) -> None:
    twilio_post(web, VOICE, payload("voice_incoming"))
    twilio_post(web, GATHER + "?step=matter&kind=help", payload("voice_gather_speech"))
    twilio_post(web, STATUS, payload("voice_incoming", CallStatus="completed", CallDuration="75"))

    assert not CallbackTask.objects.exists()
    assert Call.objects.get().status == "completed"


def test_a_voicemail_arriving_after_the_hang_up_cancels_the_callback(city: Any, web: Any) -> None:
    sid = "CA22222222222222222222222222222222"
    twilio_post(web, VOICE, payload("voice_incoming", CallSid=sid, From="+8613912345678"))
    twilio_post(web, STATUS, payload("voice_incoming", CallSid=sid, From="+8613912345678", CallStatus="completed"))
    assert CallbackTask.objects.get().state == "open"

    twilio_post(web, RECORDING, payload("voice_recording", RecordingStatus="completed"))

    task = CallbackTask.objects.get()
    assert task.state == "cancelled" and Ticket.objects.get().number in task.note


def test_outside_service_hours_the_caller_hears_so_and_can_leave_a_message(city: Any, web: Any) -> None:
    PhoneLine.objects.create(profile=policy.active_profile(), opens_at=time(8), closes_at=time(20))
    with time_machine.travel(datetime(2025, 11, 27, 22, 30, tzinfo=SHANGHAI), tick=False):
        response = twilio_post(web, VOICE, payload("voice_incoming"))

    texts = say_texts(response)
    assert "非人工服务时间" in texts[0] and "留言" in texts[1]
    assert "<Gather" not in response.content.decode() and "<Record" in response.content.decode()
    assert Call.objects.get().after_hours is True
    assert InboundMessage.objects.get().note == "非服务时间"


def test_when_every_seat_is_taken_the_caller_can_leave_a_message(city: Any, web: Any) -> None:
    PhoneLine.objects.create(profile=policy.active_profile(), seats=1)
    twilio_post(web, VOICE, payload("voice_incoming"))
    busy = twilio_post(web, VOICE, payload("voice_incoming", CallSid="CA99", From="+8613500135000"))

    assert "话务员全忙" in say_texts(busy)[0]
    assert Call.objects.get(call_sid="CA99").after_hours is True


def test_the_console_gets_the_callers_history_open_tickets_first(city: Any, web: Any, api: Any, user: Any) -> None:
    phone = "+8613800138000"
    operator = Actor.of(user("operator1"))
    older = intake.ticket_create(actor=operator, channel="phone", text="反映小区停车难的问题", citizen_phone=phone)
    newer = intake.ticket_create(
        actor=operator, channel="phone", text="咨询社保卡补办流程", citizen_phone="138 0013 8000"
    )
    intake.ticket_create(actor=operator, channel="phone", text="别人的工单", citizen_phone="+8613900139000")
    Ticket.objects.filter(pk=older.pk).update(state="closed")
    twilio_post(web, VOICE, payload("voice_incoming"))

    pushed = calls.call_announce(Call.objects.get(call_sid=SID))
    history = api("operator1").get(f"/api/calls/{SID}/caller-history/")

    assert pushed["phone"] == phone and pushed["pushed"] is True
    assert [(t["number"], t["is_open"]) for t in pushed["history"]] == [(newer.number, True), (older.number, False)]
    assert history.status_code == 200
    assert [t["number"] for t in history.json()["history"]] == [newer.number, older.number]
    assert api("rsj_staff").get(f"/api/calls/{SID}/caller-history/").status_code == 403


def test_unsigned_voice_requests_get_403_and_write_nothing(city: Any, web: Any) -> None:
    assert twilio_post(web, VOICE, payload("voice_incoming"), signed=False).status_code == 403
    assert (
        twilio_post(web, STATUS, payload("voice_status_no_answer"), signature="bm90LWEtc2lnbmF0dXJl").status_code == 403
    )
    assert not Call.objects.exists() and not InboundMessage.objects.exists() and not CallbackTask.objects.exists()


def test_a_call_without_callsid_or_from_gets_a_polite_answer(city: Any, web: Any) -> None:
    response = twilio_post(web, VOICE, {"AccountSid": "AC0", "Direction": "inbound"})
    assert response.status_code == 200 and "对不起" in "".join(say_texts(response))
    withheld = twilio_post(web, VOICE, payload("voice_incoming", From="+266696687", CallSid="CAanon"))
    assert withheld.status_code == 200 and Call.objects.get(call_sid="CAanon").phone == ""
