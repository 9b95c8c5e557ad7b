"""The workflow's deadline port (tickets/core/deadlines.py): sla's rules, installed at ready, applied
inside the workflow's transaction without the workflow importing sla."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from tickets.core import deadlines as port
from tickets.core.actors import Actor
from tickets.core.models import Assignment, Ticket
from tickets.core.services import workflow
from tickets.errors import TransitionNotAllowed
from tickets.org.models import Unit
from tickets.sla.services.policy import Clocks
from tickets.sla.services.port import SLA_DEADLINES

from ..tickets.helpers import dispatched, staff

pytestmark = pytest.mark.django_db


class _Fixed:
    """sla's rules, except: every reply deadline is exactly ten days out, and 退回 is always refused."""

    def __getattr__(self, name: str) -> Any:
        return getattr(SLA_DEADLINES, name)

    def assignment_clocks(self, *, ticket: Ticket, start: datetime) -> Clocks:
        return Clocks(sign_due_at=start + timedelta(hours=1), reply_due_at=start + timedelta(days=10), policy=None)

    def check_return_window(self, *, assignment: Assignment, now: datetime) -> None:
        raise TransitionNotAllowed("测试：不允许退回", rule="return_window")


@pytest.fixture
def fixed() -> Iterator[None]:
    port.deadlines_install(_Fixed())  # type: ignore[arg-type]
    try:
        yield
    finally:
        port.deadlines_install(SLA_DEADLINES)


def test_sla_rules_are_the_installed_port() -> None:
    assert port.deadlines() is SLA_DEADLINES


def test_a_dispatch_takes_its_deadlines_from_the_installed_port(units: dict[str, Unit], fixed: None) -> None:
    before = timezone.now()
    ticket, lead = dispatched(units["rsj"])
    assert lead.reply_due_at is not None and lead.sign_due_at is not None
    assert timedelta(days=10) <= lead.reply_due_at - before < timedelta(days=10, minutes=1)
    assert lead.sign_due_at - lead.dispatched_at == timedelta(hours=1)
    event = ticket.events.get(action="assignment_created")
    assert event.data["reply_due_at"] == lead.reply_due_at.isoformat()


def test_a_return_is_checked_by_the_installed_port(units: dict[str, Unit], fixed: None) -> None:
    _, lead = dispatched(units["rsj"])
    clerk = Actor.of(staff(units["rsj"]))
    workflow.assignment_sign(assignment=lead, actor=clerk)
    with pytest.raises(TransitionNotAllowed, match="测试：不允许退回"):
        workflow.assignment_request_return(assignment=lead, actor=clerk, reason="非本单位职责", legal_basis="三定方案")
    lead.refresh_from_db()
    assert lead.state == "signed"


def test_without_a_port_the_workflow_says_what_is_missing() -> None:
    installed = port.deadlines()
    port._port = None
    try:
        with pytest.raises(RuntimeError, match=r"TicketsConfig\.ready"):
            port.deadlines()
    finally:
        port.deadlines_install(installed)
