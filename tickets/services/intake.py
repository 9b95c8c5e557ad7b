"""统一接收: every channel ends here — one ticket store, one numbering scheme, one routing step."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from tickets.models import Category, Kind, Ticket, Unit, Urgency
from tickets.services import routing, workflow
from tickets.services.actors import Actor
from tickets.services.events import event_record
from tickets.services.numbering import ticket_number_next
from tickets.services.text import normalise_phone, normalise_text
from tickets.states import TicketState


@transaction.atomic
def ticket_create(
    *,
    actor: Actor,
    channel: str,
    text: str,
    kind: str = Kind.HELP,
    urgency: str = Urgency.NORMAL,
    title: str = "",
    citizen_name: str = "",
    citizen_phone: str = "",
    citizen_address: str = "",
    confidential: bool = False,
    anonymous: bool = False,
    jurisdiction: Unit | None = None,
    category: Category | None = None,
    draft: bool = False,
    external_ref: str = "",
    raw: dict[str, Any] | None = None,
    auto_route: bool = True,
) -> Ticket:
    """受理: store the ticket, record the raw inbound message, then route it."""
    text = normalise_text(text)
    title = normalise_text(title) or text[:30]
    ticket = Ticket.objects.create(
        number=ticket_number_next(),
        channel=channel,
        kind=kind,
        urgency=urgency,
        title=title,
        text=text,
        citizen_name=normalise_text(citizen_name),
        citizen_phone=normalise_phone(citizen_phone),
        citizen_address=normalise_text(citizen_address),
        confidential=confidential,
        anonymous=anonymous,
        jurisdiction=jurisdiction,
        category=category,
        state=TicketState.DRAFT if draft else TicketState.REGISTERED,
        external_ref=external_ref,
        created_by=actor.user,
    )
    event_record(
        ticket=ticket,
        actor=actor,
        action="created",
        to_state=ticket.state,
        data={"channel": channel, **({"raw": raw} if raw else {})},
    )
    if auto_route and not draft:
        ticket = ticket_route(ticket=ticket)
    from tickets.services import duplicates  # 并单: the fingerprint makes later duplicate lookups indexed

    duplicates.ticket_fingerprint_store(ticket=ticket)
    return ticket


def ticket_route(*, ticket: Ticket) -> Ticket:
    """Dispatch automatically when the catalogue gives a unit; otherwise queue for a dispatcher."""
    route = routing.route_for_ticket(ticket)
    if route is None or ticket.category is None:
        return workflow.ticket_await_dispatch(
            ticket=ticket,
            actor=Actor.system("routing"),
            reason="未能自动确定承办单位，等待人工派单",
        )
    return workflow.ticket_dispatch(
        ticket=ticket,
        actor=Actor.system("routing"),
        lead_unit=route.lead_unit,
        assisting_units=route.assisting_units,
        note=route.basis,
    )
