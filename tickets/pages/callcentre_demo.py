"""模拟来电 for the offline demo: the same signed Twilio webhooks, posted in-process, in the order a
real call makes them, so a new user sees the queue, the pop, the recording placeholder and the
wallboard move without Twilio. Refused unless CALLCENTRE_DEMO is on (never in production)."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.urls import resolve
from django.utils import timezone
from django.utils.translation import gettext as _
from twilio.request_validator import RequestValidator

from tickets.callcentre.models import QueuedCall, QueueOutcome
from tickets.callcentre.services import seats
from tickets.callcentre.services.twilio_rest import WEBHOOKS
from tickets.core.text import normalise_phone
from tickets.errors import InvalidInput
from tickets.intake.webhooks.signature import FORM
from tickets.org.models import User
from tickets.twilio_signature import public_url

DEMO_CALLER = "+8613800138000"
LINE = "+8612345"


def _post(request: HttpRequest, path: str, params: dict[str, str]) -> HttpResponse:
    """POST `path` as Twilio would: form-encoded and signed with the auth token over the URL."""
    body = urlencode(params)
    fake = RequestFactory().post(
        path,
        data=body,
        content_type=FORM,
        HTTP_HOST=request.get_host(),
        secure=request.is_secure(),
        REMOTE_ADDR=request.META.get("REMOTE_ADDR", "127.0.0.1"),
    )
    if settings.TWILIO_AUTH_TOKEN:
        fake.META["HTTP_X_TWILIO_SIGNATURE"] = RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(
            public_url(fake), params
        )
    response: HttpResponse = resolve(path.split("?")[0]).func(fake)
    if response.status_code != 200:
        raise ValueError(
            _("模拟的 Twilio 回调被拒绝（HTTP %(status)s），请设置 TWILIO_AUTH_TOKEN")
            % {"status": response.status_code}
        )
    return response


def _sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def _waited(queued: QueuedCall) -> str:
    return str(int((timezone.now() - queued.enqueued_at).total_seconds()))


def simulate_step(*, request: HttpRequest, user: User, step: str, phone: str = "") -> str:
    """One step of a simulated call; returns what happened (shown on the seat panel)."""
    if step == "ring":
        try:
            caller = normalise_phone(phone) if phone else DEMO_CALLER
        except InvalidInput as exc:
            raise ValueError(str(exc)) from exc
        sid = _sid("CA")
        params = {"CallSid": sid, "From": caller, "To": settings.TWILIO_FROM_NUMBER or LINE, "CallStatus": "ringing"}
        answer = _post(request, f"{WEBHOOKS}/voice/", params).content.decode()
        if "<Gather" in answer and "<Enqueue" not in answer:
            _post(request, f"{WEBHOOKS}/choose/", {**params, "Digits": ""})
        queued = QueuedCall.objects.filter(call__call_sid=sid).first()
        if queued is None or queued.outcome == QueueOutcome.OVERFLOW:
            return _("无话务员就绪，来电已转语音留言")
        _post(
            request, f"{WEBHOOKS}/wait/", {"CallSid": sid, "QueuePosition": "1", "QueueTime": "0", "AvgQueueTime": "0"}
        )
        return _("模拟来电已进入排队")
    if step == "answer":
        seat = seats.seat_for(user)
        queued = (
            QueuedCall.objects.filter(
                outcome__in=(QueueOutcome.WAITING, QueueOutcome.OFFERED), desk__in=seat.skills.all()
            )
            .select_related("call")
            .order_by("enqueued_at")
            .first()
        )
        if queued is None:
            return _("当前没有排队的来电")
        leg = _sid("CA")
        _post(
            request, f"{WEBHOOKS}/seat/?seat={user.pk}", {"CallSid": leg, "From": LINE, "To": f"client:{seat.identity}"}
        )
        bridge = {
            "CallSid": queued.call.call_sid,
            "DequeingCallSid": leg,
            "QueueSid": _sid("QU"),
            "QueueTime": _waited(queued),
        }
        _post(request, f"{WEBHOOKS}/bridge/", bridge)
        return _("已接通模拟来电")
    if step == "hangup":
        current = (
            QueuedCall.objects.filter(operator=user, outcome=QueueOutcome.BRIDGED, handle_seconds__isnull=True)
            .select_related("call")
            .order_by("-bridged_at")
            .first()
        )
        if current is None or not current.operator_call_sid:
            return _("当前没有通话")
        talk = str(int((timezone.now() - (current.bridged_at or timezone.now())).total_seconds()))
        leg = current.operator_call_sid
        _post(request, f"{WEBHOOKS}/dial/", {"CallSid": leg, "DialCallStatus": "completed", "DialCallDuration": talk})
        rec = _sid("RE")
        recording = {
            "CallSid": leg,
            "RecordingSid": rec,
            "RecordingUrl": f"demo:{rec}",
            "RecordingStatus": "completed",
            "RecordingDuration": talk,
        }
        _post(request, f"{WEBHOOKS}/recording/", recording)
        left = {
            "CallSid": current.call.call_sid,
            "QueueResult": "bridged",
            "QueueTime": str(current.wait_seconds or 0),
        }
        _post(request, f"{WEBHOOKS}/left/", left)
        _post(request, "/webhooks/twilio/voice/status/", _status(current, talk))
        return _("通话已结束，录音已保存（演示占位）")
    if step == "abandon":
        queued = (
            QueuedCall.objects.filter(outcome__in=(QueueOutcome.WAITING, QueueOutcome.OFFERED))
            .select_related("call")
            .order_by("enqueued_at")
            .first()
        )
        if queued is None:
            return _("当前没有排队的来电")
        waited = _waited(queued)
        _post(
            request,
            f"{WEBHOOKS}/left/",
            {"CallSid": queued.call.call_sid, "QueueResult": "hangup", "QueueTime": waited},
        )
        _post(request, "/webhooks/twilio/voice/status/", _status(queued, waited))
        return _("来电人在排队中挂断，已生成未接来电回拨任务")
    raise ValueError(_("未知的模拟步骤"))


def _status(queued: QueuedCall, duration: str) -> dict[str, Any]:
    return {
        "CallSid": queued.call.call_sid,
        "CallStatus": "completed",
        "CallDuration": duration,
        "From": queued.call.from_number,
        "To": queued.call.to_number,
    }
