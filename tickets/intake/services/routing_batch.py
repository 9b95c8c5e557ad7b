"""按责转办 behind the intake, in batches: the routing worker.

An accepted ticket waits in the routing queue the database holds (`Ticket.route_state`, a partial
index): a crash, a killed worker or a Redis outage loses nothing. The worker claims a batch with
`SELECT … FOR UPDATE SKIP LOCKED` (two workers never claim the same ticket; a killed worker's
transaction rolls back and its tickets return to the queue), then in that one transaction:
places from the gazetteer, one vectorised classifier call, the catalogue, and the workflow's set
form (`core.services.workflow_sets`) writing the dispatches, assignments with deadlines and
events a statement per table; the 受理 SMS rows, the fingerprints, the scorecard counters and the
live push likewise once for the batch. The single-ticket path (`intake.ticket_route`, used when an
operator completes a draft) applies the same rules one by one; the property test holds them equal.

The 受理 SMS names the unit when routing finishes within ROUTING_NOTICE_WAIT_SECONDS; a ticket
still waiting then is told without the unit (`routing_tell_waiting`) and the 转办 notice follows
its dispatch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tickets.core.actors import Actor
from tickets.core.memo import memo_scope
from tickets.core.models import RouteState, Ticket, TicketEvent
from tickets.core.services import workflow_sets
from tickets.core.services.events import EventSpec, events_batched, events_react_every
from tickets.core.states import TicketState
from tickets.duplicates.services import duplicates
from tickets.messaging.services import citizen_notifications
from tickets.routing.services import catalogue, classification, gazetteer

log = logging.getLogger("tickets.routing")


def _claim(*, ids: Sequence[int] | None, limit: int) -> list[Ticket]:
    queue = Ticket.objects.select_for_update(skip_locked=True).exclude(route_state=RouteState.DONE)
    if ids is not None:
        queue = queue.filter(pk__in=list(ids))
    return list(queue.order_by("id")[:limit])


def tickets_route_pending(*, ids: Sequence[int] | None = None, limit: int | None = None) -> list[Ticket]:
    """Claim up to `limit` tickets of the routing queue (or those of `ids` still in it) and route them
    together in one transaction. Returns the tickets routed, as they now stand (empty: nothing to do)."""
    limit = limit or settings.ROUTING_BATCH
    with memo_scope(), transaction.atomic(), events_batched():
        claimed = _claim(ids=ids, limit=limit)
        if not claimed:
            return []
        # A person acted first (answered directly, merged, …): the ticket just leaves the queue.
        routable = [t for t in claimed if t.state == TicketState.REGISTERED]
        untold = [t for t in routable if t.route_state == RouteState.PENDING]
        left = [t.pk for t in claimed if t.state != TicketState.REGISTERED]
        if left:
            Ticket.objects.filter(pk__in=left).update(route_state=RouteState.DONE)
        # The intake left its `created` events' scorecard count and live push to this batch; the
        # events get the batch's own ticket objects, so the push builds them from what it holds.
        created = list(
            TicketEvent.objects.filter(ticket__in=claimed, action="created").select_related("actor").order_by("id")
        )
        by_id = {t.pk: t for t in claimed}
        for event in created:
            event.ticket = by_id[event.ticket_id]
        events_react_every(created)
        _load_references(claimed)
        workflow_sets.tickets_decide(decisions=_decisions(routable, untold={t.pk for t in untold}))
        citizen_notifications.tickets_received(tickets=untold)  # 受理, naming the unit when dispatched
        duplicates.tickets_fingerprint_store_new(tickets=claimed)
    return claimed


def _load_references(tickets: list[Ticket]) -> None:
    """The operator-given place and category of the batch, in two queries (not two per ticket)."""
    for name in ("jurisdiction", "category"):
        model = Ticket._meta.get_field(name).related_model
        ids = {getattr(t, f"{name}_id") for t in tickets} - {None}
        found = model._default_manager.in_bulk(ids) if ids else {}  # type: ignore[union-attr]
        for ticket in tickets:
            key = getattr(ticket, f"{name}_id")
            setattr(ticket, name, found.get(key) if key is not None else None)


def _decisions(tickets: list[Ticket], *, untold: set[int]) -> list[workflow_sets.Decision]:
    """Each ticket's routing, decided as `intake.ticket_route` decides one (same services, same order)."""
    routing = Actor.system("routing")
    decisions = {t.pk: workflow_sets.Decision(ticket=t, actor=routing, notify=t.pk not in untold) for t in tickets}
    placeless = [t for t in tickets if t.jurisdiction_id is None]
    for ticket, place in zip(placeless, gazetteer.jurisdictions_find([(t.text, t.citizen_address) for t in placeless]),
                             strict=True):  # fmt: skip
        if place is not None:
            ticket.jurisdiction = place
            decision = decisions[ticket.pk]
            decision.changed += ("jurisdiction",)
            decision.before.append(
                EventSpec(ticket, routing, "jurisdiction_found", data={"unit": place.code, "name": place.name})
            )
    unsure: set[int] = set()
    unclassified = [t for t in tickets if t.category_id is None]
    predictions = classification.tickets_predict(unclassified)  # one vectorised call for the batch
    for ticket, prediction, record in zip(
        unclassified, predictions, classification.classification_records(predictions), strict=True
    ):
        choice = classification.category_choose(prediction, record)
        decision = decisions[ticket.pk]
        ticket.classification = choice.record
        decision.changed += ("classification",)
        if choice.sure:
            ticket.category, ticket.category_source = choice.category, "classifier"
        decision.before.append(EventSpec(ticket, choice.robot, "classified", data=choice.record))
        decision.actor = choice.robot
        if not choice.sure:  # waits for a dispatcher, with the classifier's proposal
            decision.note, decision.data = choice.reason, choice.record
            unsure.add(ticket.pk)
    sure = [t for t in tickets if t.pk not in unsure]
    routes = catalogue.routes_lookup([(t.category, t.jurisdiction) for t in sure])
    for ticket, route in zip(sure, routes, strict=True):
        decision = decisions[ticket.pk]
        if route is None or ticket.category is None:
            decision.note = catalogue.NO_ROUTE_REASON
            continue
        decision.lead_unit, decision.assisting_units = route.lead_unit, route.assisting_units
        decision.note = route.basis
    return list(decisions.values())


def routing_tell_waiting(*, older_than: timedelta | None = None) -> int:
    """受理 without the unit for tickets still waiting for routing after a few seconds (the worker is
    slow or down); their 转办 notice follows the dispatch. Returns the number told."""
    wait = older_than if older_than is not None else timedelta(seconds=settings.ROUTING_NOTICE_WAIT_SECONDS)
    with memo_scope(), transaction.atomic():
        waiting = list(
            Ticket.objects.select_for_update(skip_locked=True)  # a ticket being routed now is told by its router
            .filter(route_state=RouteState.PENDING, created_at__lt=timezone.now() - wait)
            .order_by("id")[: settings.ROUTING_BATCH]
        )
        if not waiting:
            return 0
        Ticket.objects.filter(pk__in=[t.pk for t in waiting]).update(route_state=RouteState.TOLD)
        citizen_notifications.tickets_received(tickets=[t for t in waiting if t.state == TicketState.REGISTERED])
    return len(waiting)


_told_at = 0.0  # when this process last looked for long-waiting tickets


def routing_run(*, max_batches: int = 1000) -> int:
    """One worker wake-up: tell the long-waiting (at most once a second per process: under load the
    wake-ups come tens of times a second), then route batches until the queue is empty."""
    global _told_at
    if time.monotonic() - _told_at >= 1.0:
        _told_at = time.monotonic()
        routing_tell_waiting()
    routed = 0
    for _ in range(max_batches):
        batch = tickets_route_pending()
        routed += len(batch)
        if len(batch) < settings.ROUTING_BATCH:
            break
    return routed
