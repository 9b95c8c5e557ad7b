"""The transition rules the workflow applies, shared by its one-ticket operations and their set forms.

`workflow` moves one ticket (a person's action); `workflow_sets` moves a set together (the routing
worker's batch). Both take the check and the history wording from here, so a batch cannot drift
from the single-ticket rules; `tests/tickets/test_routing_batch_property.py` holds them equal.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tickets.core.deadlines import AssignmentClocks
from tickets.core.states import PREVIOUS, TICKET_TRANSITIONS, AssignmentState, TicketState, Transition
from tickets.errors import TransitionNotAllowed
from tickets.org.models import Unit


def refusal(label: str, current_label: str, action: str) -> TransitionNotAllowed:
    return TransitionNotAllowed(f"当前状态为「{current_label}」，不能{label}", rule=f"state:{action}")


def transition_target(table: dict[str, Transition], action: str, *, current: str, previous: str = "") -> str:
    """The state `action` leads to from `current`, or the refusal naming both (domain.md §4)."""
    rule = table[action]
    if current not in rule.sources:
        states = TicketState if table is TICKET_TRANSITIONS else AssignmentState
        raise refusal(rule.label, str(states(current).label), action)
    if rule.target == PREVIOUS:
        return previous or AssignmentState.SIGNED
    return rule.target


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def dispatch_data(lead_unit: Unit, assisting: Sequence[Unit], data: dict[str, Any] | None = None) -> dict[str, Any]:
    """The `dispatch` event's data."""
    return {"lead_unit": lead_unit.code, "assisting_units": [u.code for u in assisting], **(data or {})}


def assignment_created_data(unit: Unit, *, role: str, round_no: int, clocks: AssignmentClocks) -> dict[str, Any]:
    """The `assignment_created` event's data: the unit and its two deadlines."""
    return {
        "unit": unit.code,
        "unit_name": unit.name,
        "role": role,
        "round": round_no,
        "sign_due_at": iso(clocks.sign_due_at),
        "reply_due_at": iso(clocks.reply_due_at),
        **({"calendar_gap": clocks.calendar_gap} if clocks.calendar_gap else {}),
    }


def assisting_units(lead_unit: Unit, assisting: Sequence[Unit]) -> list[Unit]:
    """协办 units: each once, never the lead itself."""
    return [u for u in dict.fromkeys(assisting) if u.pk != lead_unit.pk]
