"""The one place that records history and announces it after commit."""

from __future__ import annotations

from typing import Any

from tickets.models import Assignment, Ticket, TicketEvent
from tickets.services.actors import Actor


def event_record(
    *,
    ticket: Ticket,
    actor: Actor,
    action: str,
    assignment: Assignment | None = None,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    """Append a TicketEvent and push it live once the transaction commits.

    on_commit keeps a rolled-back change from ever being announced; robust=True keeps a
    broken live layer (Redis down) from failing a write that has already committed, and the
    outbox row written with the event lets a periodic task push it once Redis is back.
    """
    payload = dict(data or {})
    if actor.label and not actor.is_user:
        payload.setdefault("actor_label", actor.label)
    event = TicketEvent.objects.create(
        ticket=ticket,
        assignment=assignment,
        actor_kind=actor.kind,
        actor=actor.user,
        action=action,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=payload,
    )
    from channels_app.broadcast import event_enqueue

    event_enqueue(event)  # outbox row now, push on commit (transaction.on_commit, robust)
    return event
