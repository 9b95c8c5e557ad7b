"""The workflow for a set: 派单 / 待派单 of many tickets in one transaction, a statement per table.

The routing worker decides each ticket of its batch, then hands the decisions here. The rules are
the single-ticket workflow's (`transitions`: the allowed moves, the history wording; `workflow`'s
lead-unit check; the same deadline clocks; the same reaction table), applied to the set with one
UPDATE of the tickets, one INSERT of the assignments and one INSERT of the events, so the outcome is
the one `workflow.ticket_dispatch` / `ticket_await_dispatch` give ticket by ticket
(`tests/tickets/test_routing_batch_property.py`).

The caller holds the tickets' row locks (`SELECT … FOR UPDATE SKIP LOCKED`): that lock, not a
compare-and-swap per row, is what keeps a person's action and the batch from both winning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from tickets.core.actors import Actor
from tickets.core.deadlines import deadlines
from tickets.core.models import Assignment, AssignmentRole, RouteState, Ticket, TicketEvent
from tickets.core.services import rows, transitions
from tickets.core.services.events import EventSpec, event_react, events_record_many
from tickets.core.services.workflow import DISPATCHERS, _check_lead_unit
from tickets.core.states import TICKET_TRANSITIONS
from tickets.errors import DomainError
from tickets.org.models import Unit


@dataclass
class Decision:
    """What routing decided for one locked ticket (its own changes already set on `ticket`)."""

    ticket: Ticket
    actor: Actor
    before: list[EventSpec] = field(default_factory=list)  # routing's own events, written first
    changed: tuple[str, ...] = ()  # ticket fields routing set (jurisdiction, classification, …)
    lead_unit: Unit | None = None  # 派单 to this unit, else 待派单
    assisting_units: Sequence[Unit] = ()
    note: str = ""  # the dispatch note (the catalogue rule), or the reason for 待派单
    data: dict[str, Any] | None = None  # the 待派单 event's data
    notify: bool = True  # a dispatch tells the citizen (转办) through the reactions


_TICKET_FIELDS = ("state", "lead_unit", "category", "category_source", "units_passed", "due_at", "updated_at")


def tickets_decide(*, decisions: Sequence[Decision]) -> list[TicketEvent]:
    """派单 or 待派单 for each decision, together; returns the events written, in id order.

    A dispatch the lead-unit rule refuses (a unit deactivated since the catalogue was read) waits
    for a dispatcher with the refusal as its reason, instead of failing the other tickets.
    """
    now = timezone.now()
    specs: list[EventSpec] = []
    assignments: list[Assignment] = []
    created: list[tuple[int, Decision]] = []  # (index into specs, decision) of each assignment_created event
    reacted: list[tuple[int, Decision]] = []  # (index into specs, decision) of each dispatch event
    fields: set[str] = set(_TICKET_FIELDS) | {"route_state"}
    for decision in decisions:
        ticket, actor = decision.ticket, decision.actor
        fields.update(decision.changed)
        specs.extend(decision.before)
        lead_unit = decision.lead_unit
        reason = decision.note
        if lead_unit is not None:
            try:
                actor.require_role(*DISPATCHERS)
                _check_lead_unit(ticket, lead_unit)
            except DomainError as refused:
                lead_unit, reason = None, f"{refused.message}，等待人工派单"
        current = ticket.state
        ticket.route_state = RouteState.DONE
        ticket.updated_at = now
        if lead_unit is None:
            target = transitions.transition_target(TICKET_TRANSITIONS, "await_dispatch", current=current)
            ticket.state = target
            specs.append(EventSpec(ticket, actor, "await_dispatch", None, current, target, reason, decision.data))
            continue
        target = transitions.transition_target(TICKET_TRANSITIONS, "dispatch", current=current)
        assisting = transitions.assisting_units(lead_unit, decision.assisting_units)
        ticket.state, ticket.lead_unit, ticket.units_passed = target, lead_unit, ticket.units_passed + 1
        reacted.append((len(specs), decision))
        specs.append(
            EventSpec(ticket, actor, "dispatch", None, current, target, decision.note,
                      transitions.dispatch_data(lead_unit, assisting, decision.data))
        )  # fmt: skip
        for role, unit in [(AssignmentRole.LEAD, lead_unit), *((AssignmentRole.ASSIST, u) for u in assisting)]:
            assignment = _assignment(ticket, unit, role=role, actor=actor, now=now, note=decision.note)
            if role == AssignmentRole.LEAD:
                ticket.due_at = assignment.reply_due_at
            created.append((len(specs), decision))
            specs.append(_created_spec(assignment, actor, decision.note))
            assignments.append(assignment)
    rows.objects_insert(assignments)  # the specs hold these objects: their ids are now known
    tickets = [d.ticket for d in decisions]
    rows.objects_update(tickets, sorted(fields))
    events = events_record_many(specs)
    for index, decision in created:  # as the single-ticket path: each assignment's, then the dispatch's
        event_react(events[index], actor=decision.actor)
    for index, decision in reacted:
        event_react(events[index], actor=decision.actor, notify=decision.notify)
    return events


def _assignment(ticket: Ticket, unit: Unit, *, role: str, actor: Actor, now: datetime, note: str) -> Assignment:
    clocks = deadlines().assignment_clocks(ticket=ticket, start=now)
    assignment = Assignment(
        ticket=ticket,
        unit=unit,
        unit_path=unit.path,
        role=role,
        round=1,
        dispatched_at=now,
        dispatched_by=actor.user,
        note=note,
        **clocks.fields(),  # type: ignore[arg-type]
    )
    assignment._clocks = clocks  # type: ignore[attr-defined]  # the event's data below
    return assignment


def _created_spec(assignment: Assignment, actor: Actor, note: str) -> EventSpec:
    clocks = assignment._clocks  # type: ignore[attr-defined]
    return EventSpec(
        assignment.ticket, actor, "assignment_created", assignment, "", assignment.state, note,
        transitions.assignment_created_data(assignment.unit, role=assignment.role, round_no=1, clocks=clocks),
    )  # fmt: skip
