"""Fixtures for 并单, 热点 and 知识库 tests: tickets through the real intake, the demo knowledge base."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tickets.models import Ticket, User
from tickets.services import intake, kb
from tickets.services.actors import Actor


@pytest.fixture
def make_ticket(city: object) -> Callable[..., Ticket]:
    """make_ticket(text, phone=…, jurisdiction=unit, …) → a ticket received by operator1 through intake."""
    operator = Actor.of(User.objects.get(username="operator1"))

    def make(text: str, **fields: Any) -> Ticket:
        fields.setdefault("auto_route", False)
        return intake.ticket_create(actor=operator, channel="phone", text=text, **fields)

    return make


@pytest.fixture
def kb_demo(city: object) -> int:
    kb.kb_index_invalidate()
    made = kb.kb_load_demo()
    yield made
    kb.kb_index_invalidate()  # the next test's rolled-back database must not meet this index
