"""Twilio webhooks of the call centre (mounted under /webhooks/twilio/callcentre/), thin adapters
around tickets/callcentre/services/queue.py. Signed, stored and replayed by the intake's
`twilio_webhook` (tickets/intake/webhooks/signature.py). Speech in Mandarin through gettext.

Point the hotline number's Voice URL at `voice/`. The order of one call (docs/callcentre.md):
voice/ → (choose/) → <Enqueue waitUrl=wait/ action=left/> → seat/ (operator's leg) →
<Dial action=dial/ record recordingStatusCallback=recording/><Queue url=bridge/> → bridge/ →
dial/ → recording/ → left/.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from tickets.callcentre.models import Desk
from tickets.callcentre.services import callbacks, queue, transfer
from tickets.callcentre.services.recordings import recording_stored
from tickets.callcentre.services.twilio_rest import webhook_url
from tickets.errors import NotFound
from tickets.intake.models import InboundChannel, InboundMessage
from tickets.intake.webhooks.signature import param, twilio_webhook
from tickets.intake.webhooks.voice import ivr_answer, sorry

LANG = "zh-CN"
HOLD_SECONDS = 15  # between two announcements in the queue


def _say(response: VoiceResponse | Gather, text: str) -> None:
    response.say(text, language=LANG)


def _int(value: str) -> int | None:
    return int(value) if value.isdecimal() and value.isascii() else None


def _key(name: str, *extra: str) -> Callable[[HttpRequest, dict[str, Any]], str | None]:
    """Endpoint + CallSid (+ named parameters, + the query string: a transferred caller's second
    queue has `?transfer=<n>`, so its waitUrl and action are not answered from the first queue's)."""

    def key(request: HttpRequest, params: dict[str, Any]) -> str | None:
        sid = param(params, "CallSid", 64)
        parts = [param(params, e, 40) for e in extra]
        query = request.GET.urlencode()[:60]
        return ":".join([f"cc-{name}", sid, *parts, *([query] if query else [])]) if sid else None

    return key


def _enqueue(entry: queue.Entry) -> str:
    response = VoiceResponse()
    if entry.route == "closed":
        return ivr_answer("closed")
    if entry.route == "overflow" or entry.desk is None:
        return ivr_answer(
            "open", lead=_("您好，这里是12345政务服务便民热线。目前话务员全忙，请您说出诉求，我们将尽快处理。")
        )
    _say(response, _("您好，这里是12345政务服务便民热线，正在为您转接话务员，请稍候。"))
    response.enqueue(
        entry.desk.queue_name,
        action=webhook_url("left/"),
        method="POST",
        wait_url=webhook_url("wait/"),
        wait_url_method="POST",
    )
    return str(response)


@twilio_webhook(channel=InboundChannel.VOICE, key=_key("voice"), sid_param="CallSid", fallback=sorry)
def incoming(request: HttpRequest, params: dict[str, Any], inbound: InboundMessage) -> str:
    """POST voice/ — a call to the hotline: choose the desk (called number or a key), then queue."""
    call_sid = param(params, "CallSid", 64)
    if not call_sid:
        inbound.note = "缺少 CallSid"
        return sorry()
    to_number = param(params, "To", 64)
    menu = [d for d in Desk.objects.exclude(digit="") if d.digit]
    if menu and not Desk.objects.filter(called_number=to_number).exclude(called_number="").exists():
        response = VoiceResponse()
        gather = Gather(num_digits=1, timeout=4, action=webhook_url("choose/"), method="POST")
        choices = "，".join(_("%(desk)s请按%(digit)s") % {"desk": d.name, "digit": d.digit} for d in menu)
        _say(gather, _("您好，这里是12345政务服务便民热线。") + choices + _("，其他诉求请稍候。"))
        response.append(gather)
        response.redirect(webhook_url("choose/"), method="POST")
        return str(response)
    return _enter(params, inbound, digit="")


def _enter(params: dict[str, Any], inbound: InboundMessage, *, digit: str) -> str:
    if not param(params, "CallSid", 64):
        inbound.note = "缺少 CallSid"
        return sorry()
    entry = queue.queue_enter(
        call_sid=param(params, "CallSid", 64),
        from_number=inbound.from_number,
        phone=inbound.phone,
        to_number=param(params, "To", 64),
        status=param(params, "CallStatus", 20),
        digit=digit,
    )
    inbound.note = {"queue": "进入排队", "closed": "非服务时间", "overflow": "无话务员可接，转语音留言"}[entry.route]
    return _enqueue(entry)


@twilio_webhook(channel=InboundChannel.VOICE, key=_key("choose"), sid_param="CallSid", fallback=sorry)
def choose(request: HttpRequest, params: dict[str, Any], inbound: InboundMessage) -> str:
    """POST choose/ — the key pressed in the desk menu (or none: the default desk)."""
    return _enter(params, inbound, digit=param(params, "Digits", 4)[:1])


@twilio_webhook(channel=InboundChannel.VOICE, key=_key("wait", "QueueTime"), sid_param="CallSid")
def wait(request: HttpRequest, params: dict[str, Any], inbound: InboundMessage) -> str:
    """POST wait/ — Twilio's waitUrl: position and expected wait, or leave for the IVR (overflow)."""
    state = queue.queue_wait(
        call_sid=param(params, "CallSid", 64),
        position=_int(param(params, "QueuePosition", 10)),
        queue_time=_int(param(params, "QueueTime", 10)) or 0,
        average=_int(param(params, "AvgQueueTime", 10)),
    )
    response = VoiceResponse()
    if state.leave:
        inbound.note = "等待超时，转语音留言"
        response.leave()
        return str(response)
    minutes = max(1, round(state.expected_seconds / 60))
    if state.position <= 1:
        told = _("您是下一位，话务员将很快为您服务，请不要挂机。")
    else:
        told = _("您前面还有%(ahead)d位来电人，预计等待约%(minutes)d分钟，请不要挂机。") % {
            "ahead": state.position - 1,
            "minutes": minutes,
        }
    _say(response, told)
    response.pause(length=HOLD_SECONDS)
    return str(response)


@twilio_webhook(channel=InboundChannel.VOICE, key=_key("seat"), sid_param="CallSid")
def seat(request: HttpRequest, params: dict[str, Any], inbound: InboundMessage) -> str:
    """POST seat/?seat=<user id> — the operator's leg is up (our call to the seat, or the softphone
    dialling in through the TwiML App with From=client:seat-<id>): dial the desk's queue."""
    seat_id = request.GET.get("seat", "")
    leg = queue.seat_leg_answer(
        leg_sid=param(params, "CallSid", 64),
        seat_id=_int(seat_id),
        identity=param(params, "From", 64),
    )
    response = VoiceResponse()
    if leg.seat is None or leg.desk is None:
        inbound.note = "没有排队来电" if leg.seat is not None else "未知座席"
        _say(response, _("当前没有排队的来电。"))
        response.hangup()
        return str(response)
    inbound.note = f"座席接听：{leg.desk.name}"
    dial = Dial(
        action=webhook_url("dial/"),
        method="POST",
        record="record-from-answer-dual",
        recording_status_callback=webhook_url("recording/"),
        recording_status_callback_method="POST",
    )
    dial.queue(leg.queue_name, url=webhook_url("bridge/"), method="POST")
    response.append(dial)
    return str(response)


@twilio_webhook(channel=InboundChannel.VOICE_STATUS, key=_key("seat-status", "CallStatus"), sid_param="CallSid")
def seat_status(request: HttpRequest, params: dict[str, Any], inbound: InboundMessage) -> str:
    """POST seat/status/ — the call we placed to a seat: not answered → offer the caller elsewhere."""
    seat_id = request.GET.get("seat", "")
    queue.seat_leg_status(
        leg_sid=param(params, "CallSid", 64),
        seat_id=_int(seat_id),
        status=param(params, "CallStatus", 20),
    )
    return str(VoiceResponse())


@twilio_webhook(channel=InboundChannel.VOICE, key=_key("bridge", "DequeingCallSid"), sid_param="CallSid")
def bridge(request: HttpRequest, params: dict[str, Any], inbound: InboundMessage) -> str:
    """POST bridge/ — the `<Queue url>`: the caller (CallSid) is about to be bridged to the leg
    DequeingCallSid. Said to the caller; the operator's console pops after the commit."""
    try:
        done = queue.queue_bridge(
            call_sid=param(params, "CallSid", 64),
            dequeuing_sid=param(params, "DequeingCallSid", 64),
            queue_time=_int(param(params, "QueueTime", 10)),
        )
    except NotFound:
        inbound.note = "排队记录不存在"
        return str(VoiceResponse())
    inbound.ticket = done.queued.call.ticket
    inbound.note = f"接通话务员 {done.operator.get_username() if done.operator else '-'}"
    response = VoiceResponse()
    _say(response, _("已为您接通话务员。"))
    return str(response)


@twilio_webhook(channel=InboundChannel.VOICE_STATUS, key=_key("dial"), sid_param="CallSid")
def dial(request: HttpRequest, params: dict[str, Any], inbound: InboundMessage) -> str:
    """POST dial/ — the operator's `<Dial>` ended: handle time, then 话后处理. While a three-way
    call is being set up the queue's `<Dial>` ends because the legs move into the conference: the
    operator's leg is answered with the conference. `?conference=1`: the conference's own `<Dial>`
    ended (the three-way call is over for the seat)."""
    leg_sid = param(params, "CallSid", 64)
    conference = request.GET.get("conference") == "1"
    if not conference:
        joining = transfer.conference_of_leg(leg_sid)
        if joining is not None:
            inbound.note = "进入三方通话"
            return transfer.conference_twiml(caller_sid=joining.call.call_sid, role="operator")
    else:
        transfer.conference_ended(leg_sid=leg_sid)
        inbound.note = "三方通话结束"
    queue.seat_leg_ended(
        leg_sid=leg_sid,
        status=param(params, "DialCallStatus", 20),
        duration=_int(param(params, "DialCallDuration", 10)),
        whole_call=conference,
    )
    response = VoiceResponse()
    response.hangup()
    return str(response)


def _recording_key(request: HttpRequest, params: dict[str, Any]) -> str | None:
    sid = param(params, "RecordingSid", 64)
    return f"cc-recording:{sid}:{param(params, 'RecordingStatus', 20)}" if sid else None


@twilio_webhook(channel=InboundChannel.RECORDING, key=_recording_key, sid_param="RecordingSid")
def recording(request: HttpRequest, params: dict[str, Any], inbound: InboundMessage) -> str:
    """POST recording/ — the bridged call's recording is ready: it joins the call and its ticket."""
    stored = recording_stored(
        # a three-way call's conference recording names the caller's call in its URL
        leg_sid=param(params, "CallSid", 64) or request.GET.get("call", "")[:64],
        recording_sid=param(params, "RecordingSid", 64),
        url=param(params, "RecordingUrl", 500),
        duration=_int(param(params, "RecordingDuration", 10)),
        status=param(params, "RecordingStatus", 20),
    )
    inbound.ticket = stored.ticket if stored is not None else None
    inbound.note = "通话录音" if stored is not None else "录音未保存"
    return str(VoiceResponse())


@twilio_webhook(channel=InboundChannel.VOICE_STATUS, key=_key("left"), sid_param="CallSid", fallback=sorry)
def left(request: HttpRequest, params: dict[str, Any], inbound: InboundMessage) -> str:
    """POST left/ — `<Enqueue action>`: bridged, hung up in the queue (→ 未接来电回拨 with the
    wait), or left for the IVR (overflow: speech or voicemail → draft ticket, SMS with its number)."""
    call_sid = param(params, "CallSid", 64)
    if param(params, "QueueResult", 32) == "bridged" and transfer.conference_of_caller(call_sid) is not None:
        inbound.note = "进入三方通话"  # the operator's leg moved into the conference first
        return transfer.conference_twiml(caller_sid=call_sid, role="caller")
    outcome = queue.queue_left(
        call_sid=call_sid,
        result=param(params, "QueueResult", 32),
        queue_time=_int(param(params, "QueueTime", 10)),
    )
    inbound.note = f"离开队列：{outcome}"
    if outcome == "overflow":
        return ivr_answer("open", lead=_("对不起，话务员暂时无法接听。请您说出诉求，我们会尽快处理并短信告知工单号。"))
    response = VoiceResponse()
    response.hangup()
    return str(response)


@twilio_webhook(channel=InboundChannel.VOICE, key=_key("callback"), sid_param="CallSid")
def callback(request: HttpRequest, params: dict[str, Any], inbound: InboundMessage) -> str:
    """POST callback/?task=<id> — the operator picked up a console callback: dial the citizen from
    the hotline number, recorded; the `<Dial action>` closes the task when it connected."""
    task = request.GET.get("task", "")
    number = callbacks.callback_leg(leg_sid=param(params, "CallSid", 64), task_id=_int(task) or 0)
    response = VoiceResponse()
    if number is None:
        inbound.note = "回拨任务不存在或已处理"
        _say(response, _("该回拨任务已处理。"))
        response.hangup()
        return str(response)
    inbound.note = "话务台回拨"
    dial = Dial(
        caller_id=settings.TWILIO_FROM_NUMBER or None,
        action=webhook_url("callback/done/"),
        method="POST",
        record="record-from-answer-dual",
        recording_status_callback=webhook_url("recording/"),
        recording_status_callback_method="POST",
    )
    dial.number(number)
    response.append(dial)
    return str(response)


@twilio_webhook(channel=InboundChannel.VOICE_STATUS, key=_key("callback-done"), sid_param="CallSid")
def callback_done(request: HttpRequest, params: dict[str, Any], inbound: InboundMessage) -> str:
    """POST callback/done/ — the callback's `<Dial>` ended (DialCallStatus, DialCallDuration)."""
    attempt = callbacks.callback_ended(
        leg_sid=param(params, "CallSid", 64),
        status=param(params, "DialCallStatus", 20),
        duration=_int(param(params, "DialCallDuration", 10)),
    )
    inbound.note = f"回拨结果：{attempt.outcome}" if attempt is not None else "回拨记录不存在"
    response = VoiceResponse()
    response.hangup()
    return str(response)
