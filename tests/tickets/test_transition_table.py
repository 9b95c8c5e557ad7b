"""Every transition in the tables is applied by the chokepoint; every other pair is refused and changes nothing."""

from __future__ import annotations

import pytest

from tickets.core.actors import Actor
from tickets.core.models import Assignment, Ticket, TicketEvent
from tickets.core.services import workflow
from tickets.core.states import ASSIGNMENT_TRANSITIONS, PREVIOUS, TICKET_TRANSITIONS, AssignmentState, TicketState
from tickets.errors import TransitionNotAllowed

from .helpers import dispatched, new_ticket

TICKET_PAIRS = [(a, s) for a, t in TICKET_TRANSITIONS.items() for s in sorted(t.sources)]
TICKET_REFUSALS = [(a, s) for a, t in TICKET_TRANSITIONS.items() for s in TicketState.values if s not in t.sources]
ASSIGNMENT_PAIRS = [(a, s) for a, t in ASSIGNMENT_TRANSITIONS.items() for s in sorted(t.sources)]
ASSIGNMENT_REFUSALS = [
    (a, s) for a, t in ASSIGNMENT_TRANSITIONS.items() for s in AssignmentState.values if s not in t.sources
]


@pytest.mark.parametrize(("action", "source"), TICKET_PAIRS)
def test_every_allowed_ticket_transition_moves_and_records(city: object, action: str, source: str) -> None:
    ticket = new_ticket(auto_route=False)
    Ticket.objects.filter(pk=ticket.pk).update(state=source)
    ticket.refresh_from_db()
    before = TicketEvent.objects.filter(ticket=ticket).count()

    workflow._ticket_move(ticket, action, actor=Actor.system("test"))

    ticket.refresh_from_db()
    assert ticket.state == TICKET_TRANSITIONS[action].target
    event = TicketEvent.objects.filter(ticket=ticket).order_by("-id").first()
    assert TicketEvent.objects.filter(ticket=ticket).count() == before + 1
    assert (event.action, event.from_state, event.to_state) == (action, source, ticket.state)


@pytest.mark.parametrize(("action", "source"), TICKET_REFUSALS)
def test_every_disallowed_ticket_transition_is_refused_without_side_effect(
    city: object, action: str, source: str
) -> None:
    ticket = new_ticket(auto_route=False)
    Ticket.objects.filter(pk=ticket.pk).update(state=source)
    ticket.refresh_from_db()
    before = TicketEvent.objects.count()

    with pytest.raises(TransitionNotAllowed) as refused:
        workflow._ticket_move(ticket, action, actor=Actor.system("test"))

    assert refused.value.status_code == 409 and action in refused.value.rule
    ticket.refresh_from_db()
    assert ticket.state == source
    assert TicketEvent.objects.count() == before


@pytest.mark.parametrize(("action", "source"), ASSIGNMENT_PAIRS)
def test_every_allowed_assignment_transition_moves_and_records(units: dict, action: str, source: str) -> None:
    _, assignment = dispatched(units["rsj"])
    Assignment.objects.filter(pk=assignment.pk).update(state=source, state_before_request=AssignmentState.PENDING_SIGN)
    assignment.refresh_from_db()

    workflow._assignment_move(assignment, action, actor=Actor.system("test"))

    assignment.refresh_from_db()
    target = ASSIGNMENT_TRANSITIONS[action].target
    assert assignment.state == (AssignmentState.PENDING_SIGN if target == PREVIOUS else target)
    event = TicketEvent.objects.filter(assignment=assignment).order_by("-id").first()
    assert (event.action, event.from_state) == (action, source)


@pytest.mark.parametrize(("action", "source"), ASSIGNMENT_REFUSALS)
def test_every_disallowed_assignment_transition_is_refused_without_side_effect(
    units: dict, action: str, source: str
) -> None:
    _, assignment = dispatched(units["rsj"])
    Assignment.objects.filter(pk=assignment.pk).update(state=source)
    assignment.refresh_from_db()
    before = TicketEvent.objects.count()

    with pytest.raises(TransitionNotAllowed):
        workflow._assignment_move(assignment, action, actor=Actor.system("test"))

    assignment.refresh_from_db()
    assert assignment.state == source
    assert TicketEvent.objects.count() == before


def test_the_tables_name_only_known_states() -> None:
    for table, states in ((TICKET_TRANSITIONS, TicketState.values), (ASSIGNMENT_TRANSITIONS, AssignmentState.values)):
        for transition in table.values():
            assert transition.sources <= set(states)
            assert transition.target in {*states, PREVIOUS}
