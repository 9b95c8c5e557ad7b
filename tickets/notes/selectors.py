"""Reads: a ticket's internal notes, a unit's reply templates."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from tickets.core.models import Ticket
from tickets.notes.models import ReplyTemplate, TicketNote
from tickets.org.models import Unit


def ticket_notes(ticket: Ticket) -> QuerySet[TicketNote]:
    """The caller has checked the reader may see the ticket (selectors.ticket_get)."""
    return TicketNote.objects.filter(ticket=ticket).select_related("author__unit", "author_unit").order_by("id")


def reply_templates_for(unit: Unit | None) -> QuerySet[ReplyTemplate]:
    """The unit's own templates and those its ancestors share, plus the ones for every unit."""
    qs = ReplyTemplate.objects.filter(is_active=True)
    if unit is None:
        return qs.filter(unit__isnull=True)
    ancestors = [code for code in unit.path.strip("/").split("/") if code]
    return qs.filter(Q(unit__isnull=True) | Q(unit__code__in=ancestors)).order_by("title", "id")
