"""Intake test helpers: Twilio-signed webhook requests built from real payload fixtures."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from django.core.cache import cache
from django.test import Client
from twilio.request_validator import RequestValidator

from tickets.core.actors import Actor
from tickets.core.models import Ticket
from tickets.core.services import workflow
from tickets.intake.services import intake
from tickets.org.models import User

FIXTURES = Path(__file__).parent / "fixtures"
TOKEN = "test-auth-token-0123456789abcdef"


def payload(name: str, **changes: str) -> dict[str, str]:
    data = json.loads((FIXTURES / f"{name}.json").read_text())
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def sign(url: str, params: dict[str, Any] | list[tuple[str, str]], token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, dict(params) if isinstance(params, list) else params)


def twilio_post(
    client: Client,
    path: str,
    params: dict[str, str] | None = None,
    *,
    body: str | None = None,
    signature: str | None = None,
    signed: bool = True,
    base: str = "http://testserver",
    **headers: str,
) -> Any:
    """POST like Twilio does: form-encoded, signed over the full URL and the decoded parameters."""
    raw = body if body is not None else urlencode(params or {})
    if signed and signature is None:
        signature = sign(base + path, parse_qsl(raw, keep_blank_values=True))
    extra = {"HTTP_X_TWILIO_SIGNATURE": signature} if signed else {}
    return client.post(path, data=raw, content_type="application/x-www-form-urlencoded", **extra, **headers)


@pytest.fixture(autouse=True)
def _twilio_settings(settings: Any) -> Iterator[None]:
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_ACCOUNT_SID = ""  # outbound SMS goes to the outbox unless a test sets credentials
    settings.TWILIO_FROM_NUMBER = ""
    settings.TWILIO_WEBHOOK_BASE_URL = ""
    settings.HOTLINE_TRUSTED_PROXY_HOPS = 0
    settings.TWILIO_ALLOW_UNSIGNED = False
    settings.HOTLINE_PUBLIC_URL = "https://12345.example.cn"
    cache.clear()  # rate-limit counters must not leak between tests
    yield
    cache.clear()


@pytest.fixture
def web() -> Client:
    return Client()


@pytest.fixture
def ticket_in_rating(city: Any, cats: Any, user: Callable[[str], User]) -> Callable[[str], Ticket]:
    """A ticket filed from `phone`, dispatched, replied by the unit and accepted: awaiting a rating."""

    def make(phone: str) -> Ticket:
        ticket = intake.ticket_create(
            actor=Actor.of(user("operator1")),
            channel="phone",
            text="公司拖欠三个月工资不发，要求协调解决",
            kind="complaint",
            citizen_phone=phone,
            category=cats["tqgz"],
        )
        lead = ticket.assignments.get(role="lead")
        workflow.assignment_sign(assignment=lead, actor=Actor.of(user("rsj_staff")))
        workflow.assignment_reply(assignment=lead, actor=Actor.of(user("rsj_staff")), text="已督促企业于本周发放工资")
        workflow.ticket_review_reply(ticket=ticket, actor=Actor.of(user("dispatcher1")), accept=True)
        ticket.refresh_from_db()
        assert ticket.state == "rating"
        return ticket

    return make
