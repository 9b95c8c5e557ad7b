"""Where the call centre calls Twilio: ringing a seat, fetching and deleting recordings, tokens.

Always the official `twilio` library, with the same HTTP client as the SMS sender
(TWILIO_API_BASE_URL points it at a local fake server in tests and benchmarks)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant
from twilio.rest import Client

from tickets.callcentre.models import Seat, SeatDevice
from tickets.messaging.services.sms import HotlineTwilioHttpClient, twilio_client

WEBHOOKS = "/webhooks/twilio/callcentre"


def webhook_url(path: str) -> str:
    base = settings.TWILIO_WEBHOOK_BASE_URL or settings.HOTLINE_PUBLIC_URL
    return f"{base}{WEBHOOKS}/{path}"


def configured() -> bool:
    return bool(settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN and settings.TWILIO_FROM_NUMBER)


def seat_call_create(*, target: str, seat_user_id: int, path: str = "") -> str:
    """Ring a seat; when it answers Twilio asks `seat/` (or `path`) what to dial."""
    call = twilio_client().calls.create(
        to=target,
        from_=settings.TWILIO_FROM_NUMBER,
        url=webhook_url(path or f"seat/?seat={seat_user_id}"),
        method="POST",
        status_callback=webhook_url(f"seat/status/?seat={seat_user_id}"),
        status_callback_method="POST",
        status_callback_event=["completed"],
        timeout=settings.CALLCENTRE_RING_SECONDS,
    )
    return str(call.sid)


def call_redirect(*, call_sid: str, twiml: str) -> None:
    """Give a live call new TwiML (transfer, three-way): `calls(sid).update(twiml=…)`."""
    twilio_client().calls(call_sid).update(twiml=twiml)


def liaison_call_create(*, to: str, twiml: str) -> str:
    """Dial a unit's liaison into a three-way call (三方通话) from the hotline number."""
    call = twilio_client().calls.create(
        to=to, from_=settings.TWILIO_FROM_NUMBER, twiml=twiml, timeout=settings.CALLCENTRE_RING_SECONDS
    )
    return str(call.sid)


def seat_target(seat: Seat) -> str:
    """How to ring a seat: its desk phone or SIP address, else the softphone's client identity."""
    if seat.device == SeatDevice.PHONE and seat.phone:
        return seat.phone
    return f"client:{seat.identity}"


def recording_fetch(url: str) -> tuple[bytes, str]:
    """The recording's audio (MP3), fetched with the library's authenticated HTTP client (its
    Response keeps text only, so a response hook keeps the bytes)."""
    captured: list[bytes] = []

    def keep(response: Any, *args: Any, **kwargs: Any) -> Any:
        captured.append(response.content)
        return response

    http = HotlineTwilioHttpClient(
        base_url=settings.TWILIO_API_BASE_URL, timeout=settings.TWILIO_HTTP_TIMEOUT, request_hooks={"response": [keep]}
    )
    client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http)
    response = client.request("GET", url if url.endswith(".mp3") else f"{url}.mp3", allow_redirects=True)
    if response.status_code != 200 or not captured:
        raise LookupError(f"Twilio answered {response.status_code}")
    return captured[-1], "audio/mpeg"


def recording_delete(recording_sid: str) -> None:
    twilio_client().recordings(recording_sid).delete()


def voice_token(*, identity: str, ttl: int | None = None) -> tuple[str, int]:
    """A short-lived access token for the Twilio Voice JS SDK, for this seat's identity only."""
    ttl = ttl or settings.CALLCENTRE_TOKEN_TTL_SECONDS
    token = AccessToken(
        settings.TWILIO_ACCOUNT_SID or "AC" + "0" * 32,
        settings.TWILIO_API_KEY_SID or "SK" + "0" * 32,
        settings.TWILIO_API_KEY_SECRET or _demo_secret(),
        identity=identity,
        ttl=ttl,
    )
    token.add_grant(VoiceGrant(outgoing_application_sid=settings.TWILIO_TWIML_APP_SID or None, incoming_allow=True))
    expires = int((timezone.now() + timedelta(seconds=ttl)).timestamp())
    return str(token.to_jwt()), expires


def _demo_secret() -> str:
    """Without an API key (the offline demo) the token is signed with a key derived from the
    site's secret, never the secret itself; Twilio would refuse it, nothing else reads it."""
    return hashlib.sha256(f"voice-token:{settings.SECRET_KEY}".encode()).hexdigest()
