"""Writes: an internal note on a ticket."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from tickets.core import selectors
from tickets.core.actors import Actor
from tickets.core.models import Ticket
from tickets.core.services.events import event_record
from tickets.core.text import text_checked
from tickets.errors import NotPermitted
from tickets.notes.models import TicketNote


@transaction.atomic
def ticket_note_add(*, ticket: Ticket, actor: Actor, text: str) -> TicketNote:
    """内部备注: staff who may see the ticket (the centre, the units it is assigned to) write to each
    other. The history records that a note was added, not its words (the history is read in more
    places than the notes)."""
    user = actor.user
    if user is None or not (user.is_centre or user.is_unit_staff):
        raise NotPermitted("只有热线中心和承办单位工作人员可以填写内部备注", rule="role")
    selectors.ticket_get(user, ticket.pk)  # another unit's ticket: 404, like every read
    body = text_checked(text, field="text", max_length=settings.REASON_MAX, min_length=1, label="备注内容")
    note = TicketNote.objects.create(ticket=ticket, author=user, author_unit=user.unit, text=body)
    event_record(ticket=ticket, actor=actor, action="note_added", data={"note": note.pk})
    return note
