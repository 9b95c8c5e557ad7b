"""Twilio Messaging: an incoming SMS (a matter or a command) and outbound delivery reports."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from twilio.twiml.messaging_response import MessagingResponse

from tickets.intake.models import InboundChannel, InboundMessage
from tickets.intake.services import sms_inbound
from tickets.intake.webhooks.signature import param, twilio_webhook
from tickets.messaging.services import sms


def _sms_key(request: HttpRequest, params: dict[str, Any]) -> str | None:
    sid = param(params, "MessageSid", 64) or param(params, "SmsSid", 64)
    return f"sms:{sid}" if sid else None


def _reply(text: str) -> str:
    response = MessagingResponse()
    response.message(text)
    return str(response)


def sorry() -> str:
    return _reply(f"{sms_inbound.SIG}系统暂时无法处理您的短信，请稍后重试或拨打12345热线。")


@twilio_webhook(channel=InboundChannel.SMS, key=_sms_key, sid_param="MessageSid", fallback=sorry)
def sms_incoming(request: HttpRequest, params: dict[str, Any], inbound: InboundMessage) -> str:
    """POST /webhooks/twilio/sms/ — a citizen's message; the TwiML reply answers in Chinese."""
    outcome = sms_inbound.sms_receive(params=params, inbound=inbound)
    inbound.ticket = outcome.ticket
    inbound.note = outcome.note
    return _reply(outcome.reply)


def _status_key(request: HttpRequest, params: dict[str, Any]) -> str | None:
    sid = param(params, "MessageSid", 64)
    return f"sms-status:{sid}:{param(params, 'MessageStatus', 20)}" if sid else None


@twilio_webhook(channel=InboundChannel.SMS_STATUS, key=_status_key, sid_param="MessageSid")
def sms_status(request: HttpRequest, params: dict[str, Any], inbound: InboundMessage) -> str:
    """POST /webhooks/twilio/sms/status/ — the delivery state of a message we sent."""
    message = sms.sms_status_update(
        sid=param(params, "MessageSid", 64),
        status=param(params, "MessageStatus", 20),
        error_code=param(params, "ErrorCode", 10),
    )
    inbound.note = "未知短信" if message is None else f"状态：{param(params, 'MessageStatus', 20)}"
    inbound.ticket = message.ticket if message is not None else None
    return str(MessagingResponse())
