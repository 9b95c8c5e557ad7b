"""Probes: /healthz (the process answers) and /readyz (its database and, in production, Redis answer)."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.test import Client

from tests.readiness import free_port


@pytest.mark.django_db
def test_a_serving_process_is_healthy_and_ready() -> None:
    client = Client()
    health = client.get("/healthz")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    ready = client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ok"})
    assert "no-cache" in ready["Cache-Control"]


@pytest.mark.django_db
def test_not_ready_while_redis_is_unreachable(settings: Any) -> None:
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "failing": {"redis": "Redis 不可用"}}
    assert response["Retry-After"] == "5"
    assert Client().get("/healthz").status_code == 200  # alive, only not ready


@pytest.mark.redis
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (a real Redis)")
@pytest.mark.django_db
def test_ready_with_the_real_redis() -> None:
    assert Client().get("/readyz").json() == {"status": "ok"}


@pytest.mark.django_db
def test_probes_refuse_writes() -> None:
    assert Client().post("/readyz").status_code == 405
