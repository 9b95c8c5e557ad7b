"""The reaction table (tickets/reactions.py): who reacts to which event, run inside the operation."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tickets import reactions
from tickets.core.actors import Actor
from tickets.core.models import Ticket, TicketEvent
from tickets.core.services import workflow
from tickets.core.services.events import ReactionTable, reactions_install, reactions_installed
from tickets.messaging.models import SmsMessage
from tickets.org.models import User

from .helpers import new_ticket

ROOT = Path(__file__).resolve().parents[2]
REACTING = ("notifications", "rating", "duplicates", "supervision", "metrics", "hotspots", "sms")


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("module", ["tickets/core/services/workflow.py", "tickets/core/services/events.py"])
def test_the_workflow_and_the_event_log_import_no_domain_that_reacts_to_them(module: str) -> None:
    imported = _imports(ROOT / module)
    assert not {m for m in imported if m.startswith("channels_app")}
    assert not {m for m in imported if m.rsplit(".", 1)[-1] in REACTING}


def test_the_table_is_installed_when_django_is_ready() -> None:
    assert reactions_installed() is reactions.TABLE


@pytest.fixture
def dispatcher() -> Actor:
    return Actor.of(User.objects.get(username="dispatcher1"))


def test_the_notify_flag_travels_with_the_event(units, dispatcher: Actor) -> None:
    told = workflow.ticket_dispatch(ticket=new_ticket(auto_route=False), actor=dispatcher, lead_unit=units["rsj"])
    silent = workflow.ticket_dispatch(
        ticket=new_ticket(auto_route=False, phone="13812340000"), actor=dispatcher, lead_unit=units["rsj"], notify=False
    )
    assert SmsMessage.objects.filter(ticket=told, purpose="dispatched").count() == 1
    assert not SmsMessage.objects.filter(ticket=silent, purpose="dispatched").exists()


@pytest.fixture
def swapped() -> Iterator[list[tuple[str, Mapping[str, Any], int]]]:
    """The real table plus a spy on `dispatch` that records what it saw when it ran."""
    seen: list[tuple[str, Mapping[str, Any], int]] = []

    def spy(event: TicketEvent, context: Mapping[str, Any]) -> None:
        seen.append((event.action, dict(context), event.ticket.assignments.count()))
        if context.get("explode"):
            raise RuntimeError("a reaction failed")

    table = reactions.TABLE
    by_action = {**table.by_action, "dispatch": (*table.by_action["dispatch"], spy)}
    reactions_install(ReactionTable(every_event=table.every_event, by_action=by_action))
    try:
        yield seen
    finally:
        reactions_install(table)


def test_a_reaction_runs_after_the_operation_s_own_writes(units, dispatcher: Actor, swapped) -> None:
    ticket = workflow.ticket_dispatch(ticket=new_ticket(auto_route=False), actor=dispatcher, lead_unit=units["rsj"])
    assert swapped == [("dispatch", {"actor": dispatcher, "notify": True}, 1)]  # the assignment already existed
    assert ticket.state == "in_progress"


def test_a_failing_reaction_rolls_the_operation_back(units, dispatcher: Actor, swapped, monkeypatch) -> None:
    ticket = new_ticket(auto_route=False)
    before = ticket.state
    original = workflow.event_react
    monkeypatch.setattr(workflow, "event_react", lambda event, **ctx: original(event, **ctx, explode=True))
    with pytest.raises(RuntimeError):
        workflow.ticket_dispatch(ticket=ticket, actor=dispatcher, lead_unit=units["rsj"])
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert fresh.state == before and not fresh.assignments.exists()
    assert not TicketEvent.objects.filter(ticket=ticket, action="dispatch").exists()
