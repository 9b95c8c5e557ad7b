"""The one place that records history and announces it after commit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction

from tickets.models import Assignment, Ticket, TicketEvent
from tickets.services.actors import Actor

_BATCH_ATTR = "_hotline_metrics_batch"


class _Recorded:
    """An on_commit marker per batched event: Django drops it if the event's savepoint rolls back."""

    def __init__(self, event: TicketEvent) -> None:
        self.event = event

    def __call__(self) -> None:
        pass


@contextmanager
def events_batched() -> Iterator[None]:
    """Within one transaction: the scorecard facts of the events recorded in the block are added
    in one upsert batch when the block ends (instead of one per event), still before the commit.

    An event whose savepoint was rolled back inside the block is left out, as it would have been
    without batching; nested blocks join the outer one.
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block or getattr(connection, _BATCH_ATTR, None) is not None:
        yield
        return
    batch: list[_Recorded] = []
    setattr(connection, _BATCH_ATTR, batch)
    try:
        yield
    finally:
        setattr(connection, _BATCH_ATTR, None)
    alive = {id(hook) for _sids, hook, _robust in connection.run_on_commit}
    from tickets.services.metrics import metrics_apply_events

    metrics_apply_events([r.event for r in batch if id(r) in alive])


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
    batch = getattr(transaction.get_connection(), _BATCH_ATTR, None)
    if batch is not None:  # events_batched(): counted at the end of the block, same transaction
        recorded = _Recorded(event)
        transaction.on_commit(recorded)
        batch.append(recorded)
    else:
        from tickets.services.metrics import metrics_apply_event

        metrics_apply_event(event)  # unit scorecards, in this transaction
    from channels_app.broadcast import event_enqueue

    event_enqueue(event)  # outbox row now, push on commit (transaction.on_commit, robust)
    return event
