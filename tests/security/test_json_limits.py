"""Every JSON endpoint refuses a hostile body with a 400 naming the rule (issue 14, finding 8).

Before: `[[[[…` ten thousand deep raised RecursionError inside DRF's parser (HTTP 500) on every JSON
endpoint, the token login and the citizen app's login included; a NUL byte reached PostgreSQL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from tickets.core.models import Ticket, TicketEvent
from tickets.intake.services import citizen_auth

NESTED = "[" * 50_000 + "]" * 50_000


def _json_operations() -> Iterator[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                yield method, re.sub(r"\{[^}]+\}", "1", path)


OPERATIONS = sorted(set(_json_operations()))


def _clients(user: Any) -> list[Client]:
    """A staff session (admin) and a citizen app token: every operation is reached by one of them."""
    staff = Client(raise_request_exception=False)
    staff.force_login(user("admin"))
    key, _ = citizen_auth.session_create(phone="+8613812341234")
    return [staff, Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {key}")]


def _send(client: Client, method: str, path: str, body: str | bytes) -> Any:
    return getattr(client, method)(path, data=body, content_type="application/json")


def test_the_schema_lists_the_json_endpoints_this_test_walks() -> None:
    assert ("post", "/api/tickets/") in OPERATIONS
    assert ("post", "/api/app/tickets/") in OPERATIONS and ("post", "/api/app/auth/login/") in OPERATIONS
    assert ("post", "/api/auth/token/") in OPERATIONS
    assert len(OPERATIONS) > 30


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_a_deeply_nested_body_is_a_400_on_every_json_endpoint(method: str, path: str, user: Any) -> None:
    answers = [_send(client, method, path, NESTED) for client in _clients(user)]
    assert all(a.status_code < 500 for a in answers), [(a.status_code, a.content[:200]) for a in answers]
    parsed = [a.json() for a in answers if a.status_code == 400]
    assert parsed, [a.status_code for a in answers]  # one of the two got as far as reading the body
    assert all(body["rule"] == "json_too_deep" for body in parsed), parsed
    assert not Ticket.objects.exists() and not TicketEvent.objects.exists()


@pytest.mark.parametrize(
    "path", ["/api/auth/token/", "/api/app/auth/code/", "/api/app/auth/login/", "/api/tickets/", "/api/app/tickets/"]
)
def test_logins_and_intake_refuse_depth_size_and_nul_with_the_rule_named(path: str, user: Any) -> None:
    limit_depth = settings.JSON_BODY_MAX_DEPTH
    just_too_deep = json.dumps({"text": _nest(limit_depth)})  # deeper than the cap, far below recursion
    too_large = json.dumps({"text": "长" * settings.JSON_BODY_MAX_BYTES})
    cases = {
        "json_too_deep": just_too_deep,
        "json_too_large": too_large,
        "nul_byte": '{"username": "admin\\u0000", "text": "a\\u0000b", "phone": "\\u0000"}',
        "number_range": '{"text": 99999999999999999999999999}',
    }
    client = _clients(user)[1 if path.startswith("/api/app/tickets") else 0]
    for rule, body in cases.items():
        response = _send(client, "post", path, body)
        assert response.status_code == 400, (rule, response.status_code, response.content[:200])
        assert response.json()["rule"] == rule, response.json()
        assert "层" in response.json()["detail"] or rule != "json_too_deep"
    assert not Ticket.objects.exists()


def _nest(depth: int) -> Any:
    value: Any = "底"
    for _ in range(depth):
        value = [value]
    return value


def test_a_body_within_the_limits_is_still_accepted(api: Any) -> None:
    nested_ok = {"text": "小区路灯损坏，晚上出行不便。", "citizen_phone": "13812341234"}
    response = api("operator1").post("/api/tickets/", nested_ok, format="json")
    assert response.status_code == 201, response.content
    login = Client().post(
        "/api/auth/token/", {"username": "operator1", "password": "demo-12345"}, content_type="application/json"
    )
    assert login.status_code == 200 and login.json()["token"]
