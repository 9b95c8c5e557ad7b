"""Who read a citizen's data (domain.md §7): views and phone reveals, for the API and the pages alike.

A ticket's detail, its history and its event replay all carry the citizen's name and address, so
each read of one ticket is a TicketAccessLog row (`via` says which door). Exports are logged by
`tickets.metrics.services.exports`. Lists and the live feed are not logged: they are a unit's inbox.
"""

from __future__ import annotations

from django.db import transaction

from tickets.core import privacy
from tickets.core.actors import Actor
from tickets.core.models import AccessAction, Ticket, TicketAccessLog
from tickets.core.services.events import event_record
from tickets.errors import NotPermitted
from tickets.org.models import User

HIDDEN_CONTACT = "保密或匿名工单的联系方式仅由热线中心掌握"


def ticket_view_record(*, ticket: Ticket, user: User, via: str) -> TicketAccessLog:
    """查看: the user read this ticket's citizen data through `via` (api.detail, api.history, …)."""
    return TicketAccessLog.objects.create(ticket=ticket, user=user, action=AccessAction.VIEW, detail={"via": via})


def citizen_record_view_record(*, ticket: Ticket | None, user: User, via: str, record: int) -> TicketAccessLog:
    """查看: the user read a record holding a citizen's number (an inbound message, a call, a callback
    task) through `via`; with the ticket it belongs to when it has one."""
    detail = {"via": via, "record": record}
    return TicketAccessLog.objects.create(ticket=ticket, user=user, action=AccessAction.VIEW, detail=detail)


@transaction.atomic
def ticket_phone_reveal(*, ticket: Ticket, user: User, via: str) -> str:
    """查看完整号码: the full number, recorded in TicketAccessLog and as a history event.

    The same rule at every door (`privacy.may_reveal`): the centre may, unit staff only on tickets
    that are not 保密/匿名 (refused with rule `confidential`, nothing recorded).
    """
    if not privacy.may_reveal(ticket, user):
        raise NotPermitted(HIDDEN_CONTACT, rule="confidential")
    TicketAccessLog.objects.create(ticket=ticket, user=user, action=AccessAction.REVEAL_PHONE, detail={"via": via})
    event_record(ticket=ticket, actor=Actor.of(user), action="phone_revealed")
    return ticket.citizen_phone


def attachment_view_record(*, ticket: Ticket, user: User, attachment: str, via: str) -> TicketAccessLog:
    """查看附件: a photo, a reply attachment or a call recording of this ticket was opened.

    `attachment` names it (e.g. "file:12", "recording:3"): the model lives in the domain that owns
    it (intake), so this log takes its name, not the row."""
    return TicketAccessLog.objects.create(
        ticket=ticket, user=user, action=AccessAction.VIEW_ATTACHMENT, detail={"via": via, "attachment": attachment}
    )


def ticket_print_record(*, ticket: Ticket, user: User) -> TicketAccessLog:
    """打印: the printable sheet carries the citizen's data onto paper, so it is logged like an export."""
    return TicketAccessLog.objects.create(
        ticket=ticket, user=user, action=AccessAction.PRINT, detail={"via": "page.print"}
    )
