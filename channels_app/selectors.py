"""Catch-up reads: what a reader missed after a cursor, filtered exactly like the socket."""

from __future__ import annotations

from dataclasses import dataclass

from channels_app import payloads as p
from channels_app.envelopes import envelopes_build, event_rows
from channels_app.readers import Reader, payload_for_reader
from tickets import selectors
from tickets.models import User

MAX_LIMIT = 500


@dataclass(frozen=True)
class CatchUp:
    events: list[p.LivePayload]
    cursor: int  # the next `after`: the last event looked at, even if this reader may not see it
    has_more: bool


def live_events_after(
    user: User, reader: Reader, *, after: int, limit: int = 100, ticket_id: int | None = None
) -> CatchUp:
    """Events after `after` (oldest first) that the socket would have sent this reader.

    Without `ticket_id`: the reader's feed — the action types meant for its role, on
    tickets `tickets.selectors` lets it see. With `ticket_id` (a ticket it may see): every
    live event of that ticket, as a client watching the ticket gets them.
    """
    limit = max(1, min(limit, MAX_LIMIT))
    rows = event_rows().filter(pk__gt=after)
    if ticket_id is not None:
        ticket = selectors.ticket_get(user, ticket_id)  # NotFound for another unit's ticket
        rows = rows.filter(ticket=ticket).exclude(action__in=p.SILENT_ACTIONS)
    else:
        rows = rows.filter(
            action__in=p.actions_for_audience(reader.audience),
            ticket__in=selectors.ticket_queryset_for(user),
        )
    page = list(rows.order_by("id")[: limit + 1])
    has_more = len(page) > limit
    page = page[:limit]
    watching = ticket_id is not None
    events = [
        payload
        for envelope in envelopes_build(page)
        if (payload := payload_for_reader(envelope, reader, watching=watching)) is not None
    ]
    return CatchUp(events=events, cursor=page[-1].pk if page else after, has_more=has_more)
