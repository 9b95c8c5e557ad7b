"""Catch-up reads: what a reader missed after a cursor, filtered exactly like the socket."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from channels_app import payloads as p
from channels_app.envelopes import envelopes_build, event_rows
from channels_app.readers import Reader, payload_for_reader
from tickets.core import selectors
from tickets.core.models import TicketEvent
from tickets.org.models import User

MAX_LIMIT = 500
# Event ids (the cursor) are drawn when the row is inserted, not when its transaction commits:
# a slow transaction can commit event 41 after event 42 was already delivered. A catch-up
# therefore also returns the reader's events with id ≤ cursor that were written up to
# LOOKBACK before the cursor's own event; clients drop ids they have already seen. Sound as long
# as no write transaction stays open longer than LOOKBACK (ours last milliseconds) and fewer
# than LOOKBACK_IDS ids are drawn in that time (the bound keeps the query an index range scan).
LOOKBACK = timedelta(seconds=60)
LOOKBACK_IDS = 5000


@dataclass(frozen=True)
class CatchUp:
    events: list[p.LivePayload]
    cursor: int  # the next `after`: the last event looked at, even if this reader may not see it
    has_more: bool


def live_events_after(
    user: User, reader: Reader, *, after: int, limit: int = 100, ticket_id: int | None = None
) -> CatchUp:
    """Events after `after` (oldest first) that the socket would have sent this reader, plus
    the reader's events with id ≤ `after` that may have committed after it (LOOKBACK).

    Without `ticket_id`: the reader's feed — the action types meant for its role, on
    tickets `tickets.core.selectors` lets it see. With `ticket_id` (a ticket it may see): every
    live event of that ticket, as a client watching the ticket gets them.
    """
    limit = max(1, min(limit, MAX_LIMIT))
    rows = _for_reader(user, reader, event_rows(), ticket_id)
    late = _late(rows, after)
    page = list(rows.filter(pk__gt=after).order_by("id")[: limit + 1])
    has_more = len(page) > limit
    page = page[:limit]
    watching = ticket_id is not None
    events = [
        payload
        for envelope in envelopes_build([*late, *page])
        if (payload := payload_for_reader(envelope, reader, watching=watching)) is not None
    ]
    return CatchUp(events=events, cursor=page[-1].pk if page else after, has_more=has_more)


def _late(rows: Any, after: int) -> list[TicketEvent]:
    """The reader's events at or before the cursor written within LOOKBACK of the cursor's event."""
    anchor = TicketEvent.objects.filter(pk=after).values_list("created_at", flat=True).first()
    if anchor is None:
        return []
    window = rows.filter(pk__lte=after, pk__gt=after - LOOKBACK_IDS, created_at__gte=anchor - LOOKBACK)
    return list(window.order_by("id")[:MAX_LIMIT])


def _for_reader(user: User, reader: Reader, rows: Any, ticket_id: int | None) -> Any:
    if ticket_id is not None:
        ticket = selectors.ticket_get(user, ticket_id)  # NotFound for another unit's ticket
        return rows.filter(ticket=ticket).exclude(action__in=p.SILENT_ACTIONS)
    return rows.filter(
        action__in=p.actions_for_audience(reader.audience),
        ticket__in=selectors.ticket_queryset_for(user),
    )
