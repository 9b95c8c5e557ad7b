"""Rate limits on the public doors: DRF throttles counted in Django's cache (Redis with REDIS_URL,
process memory when embedded), per client address (tickets.request_meta.client_ip: the one rule
for X-Forwarded-For, HOTLINE_TRUSTED_PROXY_HOPS; DRF's own NUM_PROXIES is not used).

DRF API views name their scope with `throttle_classes`; the plain Django views (citizen pages,
password logins of the pages and the admin, Twilio webhooks, Open311) are covered by
`PublicRateLimitMiddleware`'s table, so a new route under one of those prefixes is limited without
anyone remembering to.
The rates are settings (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]), read on every request.

A webhook that carries a valid Twilio signature (the same check the webhook views make,
tickets/twilio_signature.py) is not counted: Twilio posts every caller's webhooks from a small pool
of addresses, so at a busy centre's peak (300 calls/min ≈ 2,400 webhooks/min) a per-address count
refused callers' bridges and hang-ups with 429. Only the holder of the auth token can sign; an
unsigned or wrongly signed request is still counted (and still refused 403 by the view, 429 past
the limit). A replayed signed delivery is answered from the stored InboundMessage (one indexed read).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from tickets.request_meta import client_ip
from tickets.twilio_signature import twilio_signature_verified

log = logging.getLogger("tickets.ratelimit")


class ClientAddressThrottle(SimpleRateThrottle):
    """`scope` requests per period from one client address."""

    scope = "citizen"

    def get_rate(self) -> str | None:
        # Read live (DRF binds THROTTLE_RATES once at import; settings overrides must count).
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        return str(rate) if rate else None

    def get_ident(self, request: Any) -> str:
        return client_ip(request)

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def allow_request(self, request: Any, view: Any) -> bool:
        # The counters live in Redis: when it is down a citizen's request must still be taken
        # (nothing a citizen submits is lost), so the limit is skipped, not the request.
        try:
            return bool(super().allow_request(request, view))
        except Exception as exc:
            log.warning("rate limit %s not counted, cache unreachable: %s", self.scope, exc)
            return True


class CitizenThrottle(ClientAddressThrottle):
    scope = "citizen"


class LoginThrottle(ClientAddressThrottle):
    scope = "login"


def _throttle(scope: str) -> ClientAddressThrottle:
    return type(f"{scope.title()}Throttle", (ClientAddressThrottle,), {"scope": scope})()


# (path prefix, methods or None for all, scope). First match wins. /api/ views use throttle_classes.
PUBLIC_LIMITS: list[tuple[str, frozenset[str] | None, str]] = [
    ("/citizen/", None, "citizen"),
    ("/login/", frozenset({"POST"}), "login"),  # one counter with /api/auth/token/ and the admin's
    ("/admin/login/", frozenset({"POST"}), "login"),
    ("/webhooks/", None, "webhook"),
    ("/open311/", None, "open311"),
]


def _too_many(request: HttpRequest, wait: float | None) -> HttpResponse:
    seconds = max(1, round(wait or 1))
    message = f"请求过于频繁，请 {seconds} 秒后再试"
    if request.path.startswith(("/webhooks/", "/open311/")):
        response: HttpResponse = JsonResponse(
            {"detail": message, "rule": "throttled", "field": None, "errors": {}}, status=429
        )
    else:
        html = render_to_string("429.html", {"message": message, "seconds": seconds}, request=request)
        response = HttpResponse(html, status=429)
    response["Retry-After"] = str(seconds)
    return response


class PublicRateLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for prefix, methods, scope in PUBLIC_LIMITS:
            if request.path.startswith(prefix) and (methods is None or request.method in methods):
                if scope == "webhook" and request.method == "POST" and twilio_signature_verified(request):
                    break  # Twilio itself: its few addresses carry every caller's calls
                throttle = _throttle(scope)
                # SimpleRateThrottle reads only request.META (via get_cache_key): a plain HttpRequest does.
                if throttle.rate and not throttle.allow_request(request, None):  # type: ignore[arg-type]
                    return _too_many(request, throttle.wait())
                break
        return self.get_response(request)
