"""Twilio webhook plumbing: signature check, raw-payload audit and idempotent answers.

`twilio_webhook` wraps a handler `(request, params, inbound) -> body`:
1. the X-Twilio-Signature is checked with the twilio library's RequestValidator against the
   public URL Twilio called (`tickets/twilio_signature.py`, the check the rate limit shares); a
   missing or wrong signature gets 403 and nothing is written; a signed body that is not a form
   (JSON, text) gets 415 and nothing is written: these endpoints read form parameters only, and
   a JSON body used to run the handler with none of them;
2. the delivery is stored as an InboundMessage whose unique `dedupe_key` (endpoint + sid) makes
   a retried delivery return the stored answer (read before the handler runs); one arriving at the
   same moment runs the handler, fails on the key at the end and is rolled back whole;
3. the handler runs in the same transaction (the InboundMessage is inserted at its end); an
   unexpected error rolls it back, keeps the raw payload (without a key, so Twilio's retry is
   processed again) and answers politely, never 500.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tickets.core.text import normalise_phone
from tickets.errors import InvalidInput
from tickets.intake.models import InboundMessage
from tickets.twilio_signature import twilio_signature_verified

log = logging.getLogger("tickets.intake.webhooks")

TWIML = "text/xml; charset=utf-8"
FORM = "application/x-www-form-urlencoded"
_UNSAFE = re.compile(r"[\x00\ud800-\udfff]")

Handler = Callable[[HttpRequest, dict[str, Any], InboundMessage], str]


class _Duplicate(Exception):
    pass


def signature_valid(request: HttpRequest) -> bool:
    if not settings.TWILIO_AUTH_TOKEN:
        # No token configured: refuse, unless a developer explicitly allows unsigned local testing.
        return bool(settings.TWILIO_ALLOW_UNSIGNED)
    return twilio_signature_verified(request)


def _clean(value: str) -> str:
    # PostgreSQL refuses NUL in text and JSON, and lone surrogates cannot be encoded: keep the
    # rest of the payload and mark the spot.
    return _UNSAFE.sub("\ufffd", value)


def clean_params(request: HttpRequest) -> dict[str, Any]:
    """The form parameters as a JSON-safe dict (lists only where a name repeats)."""
    params: dict[str, Any] = {}
    for key in request.POST:
        values = [_clean(v) for v in request.POST.getlist(key)]
        params[_clean(key)[:200]] = values[0] if len(values) == 1 else values
    return params


def param(params: dict[str, Any], name: str, limit: int = 200) -> str:
    value = params.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value)[:limit]


def phone_of(raw: str) -> str:
    """E.164 of a caller ID, or "" for withheld / client: / malformed numbers."""
    try:
        return normalise_phone(raw[:64], field="From")
    except InvalidInput:
        return ""


def empty_twiml() -> str:
    return '<?xml version="1.0" encoding="UTF-8"?><Response />'


def twilio_webhook(
    *,
    channel: str,
    key: Callable[[HttpRequest, dict[str, Any]], str | None],
    sid_param: str,
    fallback: Callable[[], str] = empty_twiml,
) -> Callable[[Handler], Callable[[HttpRequest], HttpResponse]]:
    def decorate(handler: Handler) -> Callable[[HttpRequest], HttpResponse]:
        @csrf_exempt
        @require_POST
        @functools.wraps(handler)
        def view(request: HttpRequest) -> HttpResponse:
            if not signature_valid(request):
                log.warning("twilio webhook %s: missing or wrong signature", request.path)
                return HttpResponseForbidden("签名无效")
            if request.content_type != FORM:
                log.warning("twilio webhook %s: %s body refused", request.path, request.content_type or "no")
                return HttpResponse(f"仅接受 {FORM} 表单", status=415, content_type="text/plain; charset=utf-8")
            params = clean_params(request)
            dedupe = key(request, params)
            if dedupe:
                stored = InboundMessage.objects.filter(dedupe_key=dedupe).first()
                if stored is not None:
                    return _replay(stored)
            from_number = param(params, "From", 64)
            fields = {
                "channel": channel,
                "sid": param(params, sid_param, 64),
                "from_number": from_number,
                "phone": phone_of(from_number),
                "raw": params,
            }
            # The delivery is stored with its answer in one INSERT at the end of the handler's
            # transaction (no savepoint, no second UPDATE: three round trips fewer on every webhook,
            # the bridge's among them). A concurrent duplicate runs the handler too, then fails on
            # the unique key, so its whole transaction rolls back and it answers the stored reply.
            inbound = InboundMessage(dedupe_key=dedupe, **fields)
            try:
                with transaction.atomic():
                    body = handler(request, params, inbound)
                    inbound.response_body = body
                    try:
                        inbound.save(force_insert=True)
                    except IntegrityError:
                        raise _Duplicate from None
            except _Duplicate:
                stored = InboundMessage.objects.filter(dedupe_key=dedupe).first()
                return _replay(stored) if stored is not None else HttpResponse(fallback(), content_type=TWIML)
            except Exception:
                log.exception("twilio webhook %s failed; raw payload kept", request.path)
                body = fallback()
                InboundMessage.objects.create(**fields, response_body=body, response_status=200, note="处理失败")
                return HttpResponse(body, content_type=TWIML)
            return HttpResponse(body, content_type=TWIML)

        return view

    return decorate


def _replay(stored: InboundMessage) -> HttpResponse:
    return HttpResponse(stored.response_body, status=stored.response_status, content_type=TWIML)
