"""Twilio Voice: the Mandarin IVR (TwiML), speech and voicemail into draft tickets, call status.

Flow: greeting → <Gather> the kind (key or voice) → <Gather> the matter by voice → draft ticket.
No input: <Record> a voicemail. Outside service hours or with every seat taken: a message and
<Record>. Every answer is stored with the delivery, so Twilio's retries get the same TwiML.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from twilio.twiml.voice_response import Gather, VoiceResponse

from tickets.core.models import Kind
from tickets.errors import RateLimited
from tickets.intake.models import InboundChannel, InboundMessage
from tickets.intake.services import calls
from tickets.intake.webhooks.signature import param, twilio_webhook

LANG = "zh-CN"
BASE = "/webhooks/twilio/voice"
GREETING = "您好，这里是12345政务服务便民热线。"
MENU = "咨询请按1，求助请按2，投诉请按3，举报请按4，建议请按5。您也可以直接说出您的诉求。"
AGAIN = "输入有误，请重新选择。"
ASK_MATTER = "请在提示音后讲述您的诉求，包括事情经过和具体地点，说完请稍等。"
RECORD_PROMPT = "请在提示音后留言，说完请按井号键或挂机。"
CLOSED = "您好，这里是12345政务服务便民热线。现在是非人工服务时间。"
BUSY = "您好，这里是12345政务服务便民热线。目前话务员全忙。"
THANKS = "您的诉求已记录，工单号是 {digits}。办理进展将以短信告知，感谢您的来电，再见。"
SORRY = "对不起，系统暂时无法处理您的来电，请稍后再拨。再见。"
TOO_OFTEN = "您的来电过于频繁，请稍后再拨。再见。"
# A first utterance this long is the matter itself, not just the choice of kind.
MATTER_MIN_CHARS = 8


def _say(response: VoiceResponse | Gather, text: str) -> None:
    response.say(text, language=LANG)


def _record(response: VoiceResponse) -> None:
    _say(response, RECORD_PROMPT)
    response.record(
        action=f"{BASE}/recording/",
        method="POST",
        max_length=120,
        finish_on_key="#",
        play_beep=True,
        recording_status_callback=f"{BASE}/recording/",
        recording_status_callback_method="POST",
    )
    _say(response, "未收到您的留言，再见。")
    response.hangup()


def _digits(number: str) -> str:
    """Spaced digits, so the voice reads 2 0 2 5 … rather than a huge number."""
    return " ".join(number)


def _thanks(number: str) -> str:
    response = VoiceResponse()
    _say(response, THANKS.format(digits=_digits(number)))
    response.hangup()
    return str(response)


def sorry() -> str:
    response = VoiceResponse()
    _say(response, SORRY)
    response.hangup()
    return str(response)


def _call_key(endpoint: str) -> Any:
    def key(request: HttpRequest, params: dict[str, Any]) -> str | None:
        sid = param(params, "CallSid", 64)
        return f"{endpoint}:{sid}" if sid else None

    return key


@twilio_webhook(channel=InboundChannel.VOICE, key=_call_key("voice"), sid_param="CallSid", fallback=sorry)
def voice_incoming(request: HttpRequest, params: dict[str, Any], inbound: InboundMessage) -> str:
    """POST /webhooks/twilio/voice/ — Twilio asks what to do with a new call."""
    call_sid = param(params, "CallSid", 64)
    if not call_sid:
        inbound.note = "缺少 CallSid"
        return sorry()
    _, state = calls.call_incoming(
        call_sid=call_sid,
        from_number=inbound.from_number,
        phone=inbound.phone,
        to_number=param(params, "To", 64),
        status=param(params, "CallStatus", 20),
    )
    if state != "open":
        inbound.note = "非服务时间" if state == "closed" else "坐席全忙"
    return ivr_answer(state)


def ivr_answer(state: str, *, lead: str = "") -> str:
    """The speech-to-draft IVR: "open" asks for the kind and the matter by voice; "closed" and
    "busy" take a voicemail. The call centre sends closed hours and overflow here (`lead` is
    said first, e.g. why no operator took the call)."""
    response = VoiceResponse()
    if lead:
        _say(response, lead)
    if state != "open":
        _say(response, CLOSED if state == "closed" else BUSY)
        _record(response)
        return str(response)
    if not lead:
        _say(response, GREETING)
    _menu(response, retry=False)
    return str(response)


def _menu(response: VoiceResponse, *, retry: bool) -> None:
    """The kind menu; a key it does not know, or silence, hears it once more, then the voicemail."""
    gather = Gather(
        input="speech dtmf",
        language=LANG,
        num_digits=1,
        timeout=6,
        speech_timeout="auto",
        action=f"{BASE}/gather/?step=kind" + ("&retry=1" if retry else ""),
        method="POST",
        hints="咨询,求助,投诉,举报,建议",
    )
    _say(gather, MENU)
    response.append(gather)
    _say(response, "没有听清您的选择。")
    _record(response)


def _step(request: HttpRequest) -> str:
    return "matter" if request.GET.get("step") == "matter" else "kind"


def _retried(request: HttpRequest) -> bool:
    return request.GET.get("retry") == "1"


def _gather_key(request: HttpRequest, params: dict[str, Any]) -> str | None:
    sid = param(params, "CallSid", 64)
    retry = ":retry" if _retried(request) else ""
    return f"voice-gather:{sid}:{_step(request)}{retry}" if sid else None


@twilio_webhook(channel=InboundChannel.VOICE, key=_gather_key, sid_param="CallSid", fallback=sorry)
def voice_gather(request: HttpRequest, params: dict[str, Any], inbound: InboundMessage) -> str:
    """POST /webhooks/twilio/voice/gather/?step=kind|matter — the caller pressed a key or spoke."""
    call_sid = param(params, "CallSid", 64)
    step = _step(request)
    speech = param(params, "SpeechResult", 4000).strip()
    confidence = _float(param(params, "Confidence", 20))
    kind = calls.kind_from(digits=param(params, "Digits", 8), speech=speech[:MATTER_MIN_CHARS])
    if step == "matter":
        chosen = request.GET.get("kind", "")
        kind = chosen if chosen in Kind.values else kind
    try:
        if speech and (step == "matter" or len(speech) >= MATTER_MIN_CHARS):
            ticket = calls.call_speech(call_sid=call_sid, speech=speech, confidence=confidence, kind=kind, raw=params)
            inbound.ticket = ticket
            inbound.note = "语音识别生成草稿工单"
            return _thanks(ticket.number)
    except RateLimited:
        response = VoiceResponse()
        _say(response, TOO_OFTEN)
        response.hangup()
        inbound.note = "频率限制"
        return str(response)
    response = VoiceResponse()
    if step == "kind" and kind:
        calls.call_set_kind(call_sid=call_sid, kind=kind)
        gather = Gather(
            input="speech",
            language=LANG,
            timeout=8,
            speech_timeout="auto",
            action=f"{BASE}/gather/?step=matter&kind={kind}",
            method="POST",
        )
        _say(gather, ASK_MATTER)
        response.append(gather)
    elif step == "kind" and not _retried(request):
        _say(response, AGAIN)
        _menu(response, retry=True)
        return str(response)
    _say(response, "没有听清您的诉求。")
    _record(response)
    return str(response)


def _float(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if 0.0 <= number <= 1.0 else None


def _recording_key(request: HttpRequest, params: dict[str, Any]) -> str | None:
    sid = param(params, "RecordingSid", 64) or param(params, "CallSid", 64)
    if not sid:
        return None
    return f"recording:{sid}:{param(params, 'RecordingStatus', 20) or 'action'}"


@twilio_webhook(channel=InboundChannel.RECORDING, key=_recording_key, sid_param="RecordingSid", fallback=sorry)
def voice_recording(request: HttpRequest, params: dict[str, Any], inbound: InboundMessage) -> str:
    """POST /webhooks/twilio/voice/recording/ — <Record action> and the recording status callback."""
    response = VoiceResponse()
    call_sid = param(params, "CallSid", 64)
    url = param(params, "RecordingUrl", 500)
    status = param(params, "RecordingStatus", 20)
    if not call_sid or not url or status in {"failed", "absent"}:
        inbound.note = "没有可用的录音"
        _say(response, "未收到您的留言，再见。")
        response.hangup()
        return str(response)
    try:
        ticket = calls.call_recording(
            call_sid=call_sid, recording_url=url, recording_sid=param(params, "RecordingSid", 64), raw=params
        )
    except RateLimited:
        inbound.note = "频率限制"
        _say(response, TOO_OFTEN)
        response.hangup()
        return str(response)
    inbound.ticket = ticket
    inbound.note = "留言生成草稿工单"
    if ticket is None:
        response.hangup()
        return str(response)
    return _thanks(ticket.number)


def _status_key(request: HttpRequest, params: dict[str, Any]) -> str | None:
    sid = param(params, "CallSid", 64)
    return f"voice-status:{sid}:{param(params, 'CallStatus', 20)}" if sid else None


@twilio_webhook(channel=InboundChannel.VOICE_STATUS, key=_status_key, sid_param="CallSid")
def voice_status(request: HttpRequest, params: dict[str, Any], inbound: InboundMessage) -> str:
    """POST /webhooks/twilio/voice/status/ — each status change; a missed call gets a callback task."""
    call_sid = param(params, "CallSid", 64)
    status = param(params, "CallStatus", 20)
    if not call_sid or not status:
        inbound.note = "缺少 CallSid 或 CallStatus"
        return str(VoiceResponse())
    duration = param(params, "CallDuration", 10)
    call = calls.call_status(
        call_sid=call_sid,
        status=status,
        duration=int(duration) if duration.isdecimal() and duration.isascii() else None,
        from_number=inbound.from_number,
        phone=inbound.phone,
        to_number=param(params, "To", 64),
    )
    inbound.ticket = call.ticket
    inbound.note = f"通话状态：{status}"
    return str(VoiceResponse())
