"""The one place that records history, and the hook through which other domains react to it.

Who reacts to which event is not decided here: `tickets.reactions` holds that table and installs
it when the app is ready (`TicketsConfig.ready`). So the event log and the workflow that writes
it import none of the domains that react (notifications, ratings, merges, problem escalation,
fingerprints, scorecards, the live feed), and the import graph has no cycle through them.

Two kinds of reaction:
- every event: scorecard counters and the live push, given the events recorded (one at a time,
  or a block's events together inside `events_batched()`), in this transaction;
- by action: run when the operation says its event is complete (`event_react`), after the
  operation's own writes and in its transaction, with the context the operation passes
  (`actor`, and flags such as `notify=False`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from tickets.core.actors import Actor
from tickets.core.models import Assignment, Ticket, TicketEvent

_BATCH_ATTR = "_hotline_event_batch"

EveryEventReaction = Callable[[Sequence[TicketEvent]], None]
Reaction = Callable[[TicketEvent, Mapping[str, Any]], None]


@dataclass(frozen=True)
class ReactionTable:
    every_event: tuple[EveryEventReaction, ...] = ()
    by_action: Mapping[str, tuple[Reaction, ...]] = field(default_factory=dict)


_table = ReactionTable()


def reactions_install(table: ReactionTable) -> None:
    """Called once by `tickets.reactions.install` when Django is ready (and by tests that swap it)."""
    global _table
    _table = table


def reactions_installed() -> ReactionTable:
    return _table


def event_react(event: TicketEvent, **context: Any) -> None:
    """The operation that recorded `event` has finished its own writes: run the event's reactions now."""
    for reaction in _table.by_action.get(event.action, ()):
        reaction(event, context)


def _every_event(events: Sequence[TicketEvent]) -> None:
    if events:
        for reaction in _table.every_event:
            reaction(events)


class _Recorded:
    """An on_commit marker per batched event: Django drops it if the event's savepoint rolls back."""

    def __init__(self, event: TicketEvent) -> None:
        self.event = event

    def __call__(self) -> None:
        pass


@contextmanager
def events_batched() -> Iterator[None]:
    """Within one transaction: the every-event reactions (scorecard upsert, live push) run once for
    all the events recorded in the block when it ends (instead of once per event), before the commit.

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
    _every_event([r.event for r in batch if id(r) in alive])


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
    """Append a TicketEvent; the every-event reactions count it and push it live after commit."""
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
    if batch is not None:  # events_batched(): reacted to at the end of the block, same transaction
        recorded = _Recorded(event)
        transaction.on_commit(recorded)
        batch.append(recorded)
    else:
        _every_event([event])
    return event
