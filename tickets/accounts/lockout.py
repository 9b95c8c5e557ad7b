"""Login lockout (django-axes): the cool-off with back-off, and the answer a locked-out login gets.

Every staff login — the pages' /login/, POST /api/auth/token/ and /admin/login/ — goes through
django.contrib.auth.authenticate() with the request, so axes counts one failure per wrong
password per account in its database table, whichever door it came through. At
AXES_FAILURE_LIMIT failures the account is locked: even the right password is refused (and
counts) until the cool-off has passed since the last failure. The cool-off doubles for every
further AXES_FAILURE_LIMIT failures (15 min, 30 min, 1 h, … up to LOGIN_COOLOFF_MAX), so a
guesser who keeps going waits longer and longer. An admin unlocks an account by deleting its
row under 登录失败记录 in the admin.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import timezone

MAX_DOUBLINGS = 16  # 15 min × 2^16 is far past any sane cap; keeps the arithmetic finite


def _username(request: Any, credentials: Any = None) -> str | None:
    if isinstance(credentials, dict) and credentials.get("username"):
        return str(credentials["username"])
    try:
        found = get_client_username(request, None)  # the form's POST, or a DRF request's JSON body
    except Exception:  # a body that is not a mapping: no username to back off on
        return None
    return str(found) if found else None


def cool_off_for(username: str | None) -> timedelta:
    base: timedelta = settings.LOGIN_COOLOFF
    if not username:
        return base
    failures = AccessAttempt.objects.filter(username=username).aggregate(n=Sum("failures_since_start"))["n"] or 0
    lockouts = failures // max(1, settings.AXES_FAILURE_LIMIT)
    doubled = base * 2 ** min(max(0, lockouts - 1), MAX_DOUBLINGS)
    return min(doubled, settings.LOGIN_COOLOFF_MAX)


def cool_off(request: Any = None) -> timedelta:
    """AXES_COOLOFF_TIME: how long failures count (and a lockout lasts) for this request's account."""
    return cool_off_for(_username(request) if request is not None else None)


def lockout_seconds_left(username: str | None) -> int:
    last = AccessAttempt.objects.filter(username=username).aggregate(at=Max("attempt_time"))["at"]
    if last is None:
        return 1
    left = (last + cool_off_for(username) - timezone.now()).total_seconds()
    return max(1, math.ceil(left))


def lockout_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return f"登录失败次数过多，账号已被临时锁定，请 {minutes} 分钟后再试，或联系管理员解除锁定"


def lockout_response(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE, also used by the API login: 429, JSON under /api/, a page elsewhere."""
    seconds = lockout_seconds_left(_username(request, credentials))
    message = lockout_message(seconds)
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message, "rule": "locked_out", "field": None, "errors": {}}, status=429)
    else:
        html = render_to_string("lockout.html", {"message": message}, request=request)
        response = HttpResponse(html, status=429)
    response["Retry-After"] = str(seconds)
    return response
