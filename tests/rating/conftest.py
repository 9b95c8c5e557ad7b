"""Rating tests reuse the intake helpers: Twilio-signed webhooks and a ticket awaiting its rating."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.intake.conftest import _twilio_settings, ticket_in_rating, web  # noqa: F401
from tickets.org.models import Role, User


@pytest.fixture
def second_operator(city: Any) -> User:
    """The demo city has two operators; callbacks alternate between them."""
    assert set(User.objects.filter(role=Role.OPERATOR).values_list("username", flat=True)) == {"operator1", "operator2"}
    return User.objects.get(username="operator2")


@pytest.fixture
def rated_actor(user: Callable[[str], User]) -> Callable[[str], Any]:
    from tickets.core.actors import Actor

    return lambda name: Actor.of(user(name))
