"""The deadline port: how the workflow sets and checks 限时办结 clocks without importing `sla`.

The workflow opens assignments, takes replies, returns and extensions inside its own transaction,
and each of those needs a deadline rule (the SLA policy, the working-day calendar, paused clocks).
Those rules belong to `tickets.sla`, which sits beside core's users on the package map, not under
core. So core states here what it needs (`DeadlinePort`), and `TicketsConfig.ready` installs
sla's implementation (`tickets.sla.services.port`) next to the reaction table. A reader finds the
two wiring points in one place (`tickets/apps.py`); the workflow imports no other domain.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from tickets.core.actors import Actor
from tickets.core.models import Assignment, Ticket


class AssignmentClocks(Protocol):
    """签收 and 办结 deadlines of a new assignment, and the year whose calendar is missing, if any."""

    @property
    def sign_due_at(self) -> datetime | None: ...

    @property
    def reply_due_at(self) -> datetime | None: ...

    @property
    def calendar_gap(self) -> int | None: ...

    def fields(self) -> dict[str, object]:
        """The Assignment columns these clocks fill in."""
        ...


class DeadlinePort(Protocol):
    def assignment_clocks(self, *, ticket: Ticket, start: datetime) -> AssignmentClocks:
        """Deadlines of an assignment dispatched at `start` (a calendar gap is flagged, never guessed)."""
        ...

    def check_return_window(self, *, assignment: Assignment, now: datetime) -> None:
        """Raise TransitionNotAllowed when 退回 is asked after the policy's window."""
        ...

    def check_extension_request(self, *, assignment: Assignment, until: datetime, now: datetime) -> None:
        """Raise when 延期 is asked too often, too late or beyond the cap."""
        ...

    def resume_if_paused(self, *, assignment: Assignment, actor: Actor, now: datetime) -> None:
        """A reply ends a paused clock's wait first, so the on-time verdict uses the moved deadline."""
        ...

    def reply_deadline_fields(self, *, assignment: Assignment, reply_due_at: datetime | None) -> dict[str, Any]:
        """Columns to write when the reply deadline moves (new level moments, markers reset)."""
        ...


_port: DeadlinePort | None = None


def deadlines_install(port: DeadlinePort) -> None:
    """Called once by `TicketsConfig.ready` (and by tests that swap it)."""
    global _port
    _port = port


def deadlines() -> DeadlinePort:
    if _port is None:
        raise RuntimeError("no deadline port installed: TicketsConfig.ready installs tickets.sla's")
    return _port
