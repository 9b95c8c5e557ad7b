"""Twilio's own webhooks are not refused by the per-address limit: it posts every caller's calls
from a few addresses (a centre at 300 calls/min sends ~2,400 webhooks/min). Requests that are not
validly signed from the same address are still limited."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from tests.intake.conftest import TOKEN, twilio_post

CC = "/webhooks/twilio/callcentre"
TWILIO_ADDRESS = "54.172.60.1"  # one of Twilio's webhook addresses


@pytest.fixture
def webhook_limit(settings: Any) -> int:
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_ALLOW_UNSIGNED = False
    settings.TWILIO_WEBHOOK_BASE_URL = ""
    settings.HOTLINE_TRUSTED_PROXY_HOPS = 0
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], "webhook": "5/min"}
    settings.REST_FRAMEWORK = rest
    cache.clear()
    yield 5
    cache.clear()


def test_validly_signed_webhooks_from_one_address_are_all_answered(city: Any, webhook_limit: int) -> None:
    twilio = Client(REMOTE_ADDR=TWILIO_ADDRESS)
    answers = [
        twilio_post(twilio, f"{CC}/wait/", {"CallSid": f"CA{n:032d}", "QueuePosition": "1", "QueueTime": str(n)})
        for n in range(3 * webhook_limit + 1)
    ]
    assert [a.status_code for a in answers] == [200] * (3 * webhook_limit + 1)
    assert "<Say" in answers[-1].content.decode()


def test_unsigned_and_forged_webhooks_from_that_address_are_still_limited(city: Any, webhook_limit: int) -> None:
    forger = Client(REMOTE_ADDR=TWILIO_ADDRESS)
    params = {"CallSid": "CA" + "f" * 32, "QueuePosition": "1", "QueueTime": "3"}
    first = [twilio_post(forger, f"{CC}/wait/", params, signature="forged").status_code for _ in range(3)]
    first += [twilio_post(forger, f"{CC}/wait/", params, signed=False).status_code for _ in range(2)]
    assert first == [403] * webhook_limit
    assert twilio_post(forger, f"{CC}/wait/", params, signature="forged").status_code == 429
    assert twilio_post(forger, f"{CC}/wait/", params, signed=False).status_code == 429
    # signed with another account's token: not ours, so counted too
    assert twilio_post(forger, f"{CC}/bridge/", params, signature="x" * 28).status_code == 429
    # Twilio itself, from the same address, still gets through
    assert twilio_post(forger, f"{CC}/wait/", params).status_code == 200
