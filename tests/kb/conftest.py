"""Fixtures for 并单, 热点 and 知识库 tests: tickets through the real intake, the demo knowledge base."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tickets.core.actors import Actor
from tickets.core.models import Ticket
from tickets.intake.services import intake
from tickets.knowledge.services import articles
from tickets.org.models import User


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
    articles.kb_index_invalidate()
    made = articles.kb_load_demo()
    yield made
    articles.kb_index_invalidate()  # the next test's rolled-back database must not meet this index
