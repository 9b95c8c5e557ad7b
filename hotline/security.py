"""Content-Security-Policy with a per-request nonce.

Pages load their scripts and styles from /static/ (htmx, live.js, console.js, ECharts). A template
that really needs an inline <script> or <style> element marks it `nonce="{{ request.csp_nonce }}"`;
anything else inline (an injected <script>, an onclick= attribute, javascript: URLs) does not run.
Style *attributes* stay allowed (`style-src-attr 'unsafe-inline'`): ECharts' tooltips and Django's
admin write them, and an attribute can restyle an element but never run code or load from
elsewhere (img-src/font-src still apply). WebSockets to the same host are 'self' (CSP level 3).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

POLICY = (
    "default-src 'self'; "
    "script-src 'self' 'nonce-{nonce}'; "
    "style-src 'self' 'nonce-{nonce}'; "
    "style-src-attr 'unsafe-inline'; "
    "img-src 'self' data: blob:; "
    "font-src 'self' data:; "
    # the softphone (Twilio Voice JS SDK, static/js/seat.js) signals and reports to Twilio
    "connect-src 'self' wss://*.twilio.com https://*.twilio.com; "
    "object-src 'none'; "
    "base-uri 'self'; "
    "form-action 'self'; "
    "frame-ancestors 'none'"
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        nonce = secrets.token_urlsafe(16)
        request.csp_nonce = nonce  # type: ignore[attr-defined]
        response = self.get_response(request)
        header = "Content-Security-Policy-Report-Only" if settings.CSP_REPORT_ONLY else "Content-Security-Policy"
        if "Content-Security-Policy" not in response and header not in response:
            response[header] = POLICY.format(nonce=nonce)
        return response
