"""Issue 14, finding 6: behind N trusted proxies the client is the X-Forwarded-For entry N places
from the right. A client that sends a random left-most entry on every request still trips every
per-address limit, and two real clients behind the same proxy are still counted apart."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from tickets.accounts.models import LoginLockout
from tickets.request_meta import client_ip

PROXY = "10.0.0.2"  # our nginx: every request reaches the app from it


def _random_address() -> str:
    return ".".join(str(b) for b in secrets.token_bytes(4))


def _through_proxy(real_client: str, *, hops: int = 1) -> dict[str, str]:
    """Headers as our proxies leave them: whatever the client sent, then one entry per proxy."""
    chain = [_random_address(), real_client, *["10.0.0.9"] * (hops - 1)]
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": ", ".join(chain)}


@pytest.fixture
def login_rate(settings: Any) -> Any:
    cache.clear()
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], "login": "3/min", "citizen": "3/min"}
    settings.REST_FRAMEWORK = rest
    settings.HOTLINE_TRUSTED_PROXY_HOPS = 1
    yield settings
    cache.clear()


@pytest.mark.parametrize(
    ("hops", "forwarded", "remote", "expected"),
    [
        (0, "198.51.100.1", PROXY, PROXY),  # no proxy trusted: the header is the client's own words
        (1, "198.51.100.1", PROXY, "198.51.100.1"),
        (1, "6.6.6.6, 198.51.100.1", PROXY, "198.51.100.1"),  # never the left-most
        (2, "6.6.6.6, 198.51.100.1, 10.0.0.9", PROXY, "198.51.100.1"),
        (2, "198.51.100.1", PROXY, PROXY),  # fewer entries than proxies: believe none of them
        (1, "", PROXY, PROXY),
        (1, " 198.51.100.1 ,, ", PROXY, "198.51.100.1"),
    ],
)
def test_the_client_is_the_entry_hops_places_from_the_right(
    settings: Any, hops: int, forwarded: str, remote: str, expected: str
) -> None:
    settings.HOTLINE_TRUSTED_PROXY_HOPS = hops
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_a_random_left_most_address_per_request_still_trips_the_login_limit(city: Any, login_rate: Any) -> None:
    answers = [
        Client().post("/login/", {"username": "operator1", "password": "x"}, **_through_proxy("198.51.100.7"))
        for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [200, 200, 200]
    refused = APIClient().post(
        "/api/auth/token/", {"username": "operator2", "password": "x"}, format="json", **_through_proxy("198.51.100.7")
    )
    assert refused.status_code == 429 and refused.json()["rule"] == "throttled"
    refused_admin = Client().post("/admin/login/", {"username": "a", "password": "x"}, **_through_proxy("198.51.100.7"))
    assert refused_admin.status_code == 429
    # a colleague behind the same proxy has a count of their own
    other = Client().post("/login/", {"username": "operator2", "password": "x"}, **_through_proxy("198.51.100.8"))
    assert other.status_code == 200


def test_a_random_left_most_address_still_trips_the_citizen_limit_with_two_proxies(
    city: Any, login_rate: Any
) -> None:
    login_rate.HOTLINE_TRUSTED_PROXY_HOPS = 2
    codes = [Client().get("/citizen/", **_through_proxy("203.0.113.5", hops=2)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert Client().get("/citizen/", **_through_proxy("203.0.113.6", hops=2)).status_code == 200


def test_login_failures_are_recorded_against_the_real_client_address(city: Any, login_rate: Any) -> None:
    APIClient().post(
        "/api/auth/token/", {"username": "operator1", "password": "x"}, format="json", **_through_proxy("198.51.100.9")
    )
    assert list(LoginLockout.objects.values_list("username", "ip_address")) == [("operator1", "198.51.100.9")]
