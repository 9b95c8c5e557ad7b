"""Is this request really from Twilio? The X-Twilio-Signature checked with the official library's
`RequestValidator` against the public URL Twilio called.

Kernel, because two doors ask: the webhook views (tickets/intake/webhooks/signature.py refuses an
unsigned request with 403) and the per-address rate limit (tickets/throttles.py does not count a
validly signed request: Twilio posts every caller's webhooks from a small pool of addresses, and a
busy centre's bridges and hang-ups must not be refused with 429). One check, computed once per
request and kept on it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from twilio.request_validator import RequestValidator

from tickets.request_meta import forwarded_value, trusted_proxy_hops

_VERIFIED = "_hotline_twilio_signature_verified"


def public_url(request: HttpRequest) -> str:
    """The URL Twilio signed. Proxy headers are believed only when configured to be."""
    path = request.get_full_path()
    if settings.TWILIO_WEBHOOK_BASE_URL:
        return str(settings.TWILIO_WEBHOOK_BASE_URL) + path
    if trusted_proxy_hops():
        # the values our outermost proxy wrote, never the left-most ones a client can prepend
        proto = forwarded_value(request.META, "HTTP_X_FORWARDED_PROTO") or request.scheme
        host = forwarded_value(request.META, "HTTP_X_FORWARDED_HOST") or request.get_host()
        return f"{proto}://{host}{path}"
    return request.build_absolute_uri()


def _check(request: HttpRequest) -> bool:
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.META.get("HTTP_X_TWILIO_SIGNATURE", "")
    if not token or not signature:
        return False
    try:
        params: Any = request.POST
        if request.content_type == "application/json":
            params = request.body.decode("utf-8", "replace")
        return bool(RequestValidator(token).validate(public_url(request), params, signature))
    except Exception:  # an unreadable body (too big, broken encoding) is not Twilio's
        return False


def twilio_signature_verified(request: HttpRequest) -> bool:
    """True only for a request signed with our auth token (never for "unsigned allowed")."""
    cached = getattr(request, _VERIFIED, None)
    if cached is None:
        cached = _check(request)
        setattr(request, _VERIFIED, cached)
    return bool(cached)
