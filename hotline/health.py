"""Probes for load balancers, systemd and the drills.

`/healthz`: the process answers (liveness; touches nothing). `/readyz`: it can serve a request
that needs its backends: the database answers `SELECT 1`, and in production Redis (broker, channel
layer, cache) answers PING. 503 names what is missing. Both are cheap enough to poll every second;
neither says anything a visitor could use (no versions, no hosts).
"""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

PROBE_TIMEOUT_SECONDS = 2.0


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return "数据库不可用"
    return ""


def _redis() -> str:
    if not settings.REDIS_URL:
        return ""  # embedded: in-process channel layer and tasks
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=PROBE_TIMEOUT_SECONDS, socket_timeout=PROBE_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    except redis.RedisError:
        return "Redis 不可用"
    finally:
        client.close()
    return ""


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database(), "redis": _redis()}
    failing = {name: why for name, why in checks.items() if why}
    if failing:
        return JsonResponse({"status": "unavailable", "failing": failing}, status=503, headers={"Retry-After": "5"})
    return JsonResponse({"status": "ok"})
