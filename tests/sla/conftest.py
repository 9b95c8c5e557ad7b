"""Fixtures for 限时办结/统一督办: a seeded calendar, tickets dispatched at a chosen moment."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
import time_machine
from django.db import connection

from tickets.core.actors import Actor
from tickets.core.models import Assignment, Kind, Ticket, Urgency
from tickets.core.services import workflow
from tickets.intake.services import intake
from tickets.org.models import Unit, User
from tickets.sla.deadlines import SHANGHAI
from tickets.sla.services import policy
from tickets.sla.services.calendar import calendar_seed_from_package


@pytest.fixture(autouse=True)
def _postgres_only(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL)")


def local(y: int, m: int, d: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """A Beijing wall-clock time."""
    return datetime(y, m, d, hour, minute, second, tzinfo=SHANGHAI)


@pytest.fixture
def calendar(city: object) -> Iterator[None]:
    """The calendar table with 2025 and 2026 from chinesecalendar (2027 is not known)."""
    calendar_seed_from_package(years=[2025, 2026])
    policy.calendar_invalidate()
    yield
    policy.calendar_invalidate()


Dispatch = Callable[..., Assignment]


@pytest.fixture
def dispatch(calendar: None, units: dict[str, Unit]) -> Dispatch:
    """dispatch(at, kind=..., urgency=..., unit="rsj") → the lead assignment, created at `at`."""

    def make(
        at: datetime,
        *,
        kind: str = Kind.HELP,
        urgency: str = Urgency.NORMAL,
        unit: str = "rsj",
        title: str = "路灯不亮",
    ) -> Assignment:
        with time_machine.travel(at, tick=False):
            ticket = intake.ticket_create(
                actor=Actor.system("test"),
                channel="web",
                text=f"{title}，请尽快处理",
                title=title,
                kind=kind,
                urgency=urgency,
                auto_route=False,
            )
            workflow.ticket_dispatch(
                ticket=ticket, actor=Actor.of(User.objects.get(username="dispatcher1")), lead_unit=units[unit]
            )
        return Assignment.objects.select_related("ticket", "unit").get(ticket=ticket, parent__isnull=True)

    return make


def staff(unit_code: str) -> Actor:
    return Actor.of(User.objects.get(username=f"{unit_code.replace('-', '_')}_staff"))


def fresh(assignment: Assignment) -> Assignment:
    return Assignment.objects.select_related("ticket", "unit").get(pk=assignment.pk)


def ticket_of(assignment: Assignment) -> Ticket:
    return Ticket.objects.get(pk=assignment.ticket_id)
