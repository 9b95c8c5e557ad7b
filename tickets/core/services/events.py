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
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from tickets.core.actors import Actor
from tickets.core.models import Assignment, Ticket, TicketEvent
from tickets.core.services.rows import objects_insert, objects_insert_linked

_BATCH_ATTR = "_hotline_event_batch"
# True while `events_batched` hands its block's events to the every-event reactions: those events
# can no longer be rolled back on their own (only with the whole transaction), so a reaction may
# keep the objects themselves for after the commit (the live push builds its envelopes from them).
_FINAL: ContextVar[bool] = ContextVar("hotline_events_final", default=False)

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
    token = _FINAL.set(True)
    try:
        _every_event([r.event for r in batch if id(r) in alive])
    finally:
        _FINAL.reset(token)


def events_final() -> bool:
    """Whether the events now handed to the every-event reactions are final (see `_FINAL`)."""
    return _FINAL.get()


@dataclass
class EventSpec:
    """One history row to write; `event_record` writes one, `events_record_many` a set in one INSERT."""

    ticket: Ticket
    actor: Actor
    action: str
    assignment: Assignment | None = None
    from_state: str = ""
    to_state: str = ""
    reason: str = ""
    data: dict[str, Any] | None = None

    def row(self) -> TicketEvent:
        payload = dict(self.data or {})
        if self.actor.label and not self.actor.is_user:
            payload.setdefault("actor_label", self.actor.label)
        return TicketEvent(
            ticket=self.ticket,
            assignment=self.assignment,
            actor_kind=self.actor.kind,
            actor=self.actor.user,
            action=self.action,
            from_state=self.from_state,
            to_state=self.to_state,
            reason=self.reason,
            data=payload,
        )


def _recorded(events: list[TicketEvent]) -> None:
    batch = getattr(transaction.get_connection(), _BATCH_ATTR, None)
    if batch is None:
        _every_event(events)
        return
    for event in events:  # events_batched(): reacted to at the end of the block, same transaction
        recorded = _Recorded(event)
        transaction.on_commit(recorded)
        batch.append(recorded)


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
    spec = EventSpec(ticket, actor, action, assignment, from_state, to_state, reason, data)
    event = spec.row()
    event.save(force_insert=True)
    _recorded([event])
    return event


def events_record_many(specs: Sequence[EventSpec]) -> list[TicketEvent]:
    """Append a set of events in one INSERT (ids in list order); the same reactions as `event_record`."""
    if not specs:
        return []
    events = objects_insert([spec.row() for spec in specs])
    _recorded(events)
    return events


def event_record_deferred(spec: EventSpec) -> TicketEvent:
    """Append an event whose every-event reactions (scorecard count, live push) run later, through
    `events_react_every` in the transaction that finishes the work: the intake's `created` event,
    counted and pushed by the routing batch together with its routing (one upsert, one push).

    A ticket not stored yet (the intake's) is stored with its event: one statement on PostgreSQL,
    both rows or neither, the whole accepting transaction in one round trip."""
    event = spec.row()
    if spec.ticket.pk is None:
        objects_insert_linked(spec.ticket, event, link="ticket")
    else:
        event.save(force_insert=True)
    return event


def events_react_every(events: Sequence[TicketEvent]) -> None:
    """Run the every-event reactions of events recorded with `event_record_deferred`."""
    _recorded(list(events))
