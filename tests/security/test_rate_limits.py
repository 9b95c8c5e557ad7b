"""Public doors are rate-limited per client address: a flood gets 429 (Chinese on pages), others don't."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient


@pytest.fixture
def rates(settings: Any) -> Any:
    """Set some scopes' rates (the counters live in the cache, which each test starts empty)."""
    cache.clear()

    def set_rates(**scopes: str) -> None:
        rest = dict(settings.REST_FRAMEWORK)
        rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], **scopes}
        settings.REST_FRAMEWORK = rest

    yield set_rates
    cache.clear()


def test_the_citizen_pages_answer_429_in_chinese_after_the_limit(city: Any, rates: Any) -> None:
    rates(citizen="3/min")
    flood = Client(REMOTE_ADDR="203.0.113.7")
    assert [flood.get("/citizen/").status_code for _ in range(3)] == [200, 200, 200]
    refused = flood.get("/citizen/status/")
    assert refused.status_code == 429
    assert "请求过于频繁" in refused.content.decode()
    assert 1 <= int(refused["Retry-After"]) <= 60
    # a neighbour at another address is not punished
    assert Client(REMOTE_ADDR="203.0.113.8").get("/citizen/").status_code == 200


def test_password_login_is_limited_but_the_form_still_loads(city: Any, rates: Any) -> None:
    rates(login="2/min")
    guesser = Client(REMOTE_ADDR="198.51.100.1")
    for _ in range(2):
        assert guesser.post("/login/", {"username": "operator1", "password": "guess"}).status_code == 200
    refused = guesser.post("/login/", {"username": "operator1", "password": "demo-12345"})
    assert refused.status_code == 429 and "请求过于频繁" in refused.content.decode()
    assert guesser.get("/login/").status_code == 200  # showing the form costs nothing


def test_token_login_answers_429_with_the_api_error_shape(city: Any, rates: Any) -> None:
    rates(login="2/min")
    client = APIClient(REMOTE_ADDR="198.51.100.2")
    for _ in range(2):
        bad = client.post("/api/auth/token/", {"username": "operator1", "password": "x"}, format="json")
        assert bad.status_code == 400
    refused = client.post("/api/auth/token/", {"username": "operator1", "password": "demo-12345"}, format="json")
    assert refused.status_code == 429
    assert refused.json()["rule"] == "throttled" and refused.json()["detail"]
    assert int(refused["Retry-After"]) >= 1


def test_the_citizen_app_api_is_limited_per_address(city: Any, rates: Any) -> None:
    rates(citizen="2/min")
    app = APIClient(REMOTE_ADDR="192.0.2.10")
    answers = [
        app.post("/api/app/auth/login/", {"phone": "13812341234", "code": "000000"}, format="json") for _ in range(3)
    ]
    assert 429 not in [a.status_code for a in answers[:2]]
    assert answers[2].status_code == 429
    assert APIClient(REMOTE_ADDR="192.0.2.11").get("/api/app/tickets/").status_code == 401


@pytest.mark.parametrize(
    ("scope", "path"), [("webhook", "/webhooks/twilio/sms/"), ("open311", "/open311/v2/services.json")]
)
def test_webhooks_and_open311_have_their_own_limit(city: Any, rates: Any, scope: str, path: str) -> None:
    rates(**{scope: "2/min"})
    caller = Client(REMOTE_ADDR="192.0.2.20")
    first = [caller.post(path).status_code if scope == "webhook" else caller.get(path).status_code for _ in range(2)]
    assert 429 not in first
    refused = caller.post(path) if scope == "webhook" else caller.get(path)
    assert refused.status_code == 429 and "请求过于频繁" in refused.json()["detail"]


def test_twilio_gets_a_generous_limit(settings: Any) -> None:
    """Every caller's SMS comes from Twilio's few addresses: the default allows 20 a second."""
    from hotline import settings as production_defaults

    count, period = production_defaults.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["webhook"].split("/")
    assert period == "min" and int(count) >= 1200
