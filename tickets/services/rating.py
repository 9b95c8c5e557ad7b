"""评价反馈: record the citizen's rating (one per handling round) and close the ticket.

Kept small on purpose: later work adds 不满意 review, 重办 and unit scores on top of `Rating`.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction

from tickets.errors import InvalidInput, NotFound, TransitionNotAllowed
from tickets.models import Rating, Satisfaction, Ticket
from tickets.services import sla, workflow
from tickets.services.actors import Actor
from tickets.services.events import event_record
from tickets.states import TicketState

_SALT = "tickets.rating-link"
SMS_DIGITS = {"1": Satisfaction.SATISFIED, "2": Satisfaction.BASIC, "3": Satisfaction.DISSATISFIED}


def ticket_round(ticket: Ticket) -> int:
    """The handling round being rated: 1, then one more per 重办."""
    return ticket.reopen_count + 1


def rating_link(ticket: Ticket) -> str:
    """A signed link to the rating page; it expires with the rating request (CityProfile)."""
    token = signing.dumps({"t": ticket.pk, "r": ticket_round(ticket)}, salt=_SALT, compress=True)
    return f"{settings.HOTLINE_PUBLIC_URL}/citizen/rate/{token}/"


def rating_token_read(token: str) -> Ticket:
    """The ticket a rating link points at, or NotFound for a forged, expired or outdated link."""
    max_age = timedelta(days=sla.active_profile().rating_expiry_days)
    try:
        data = signing.loads(token, salt=_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise NotFound("评价链接已过期", rule="rating_link_expired") from None
    except signing.BadSignature:
        raise NotFound("评价链接无效", rule="rating_link_invalid") from None
    ticket = Ticket.objects.filter(pk=data.get("t")).first()
    if ticket is None or data.get("r") != ticket_round(ticket):
        raise NotFound("评价链接已失效", rule="rating_link_outdated")
    return ticket


def open_rating_ticket(phone: str) -> Ticket | None:
    """The newest ticket from this number that waits for the citizen's rating."""
    if not phone:
        return None
    return Ticket.objects.filter(citizen_phone=phone, state=TicketState.RATING).order_by("-id").first()


@transaction.atomic
def rating_record(
    *,
    ticket: Ticket,
    actor: Actor,
    satisfaction: str,
    channel: str,
    solved: bool | None = None,
    contacted: bool | None = None,
    comment: str = "",
) -> Rating:
    """Record 满意 / 基本满意 / 不满意 for the current round and close the ticket (办结)."""
    if satisfaction not in Satisfaction.values:
        raise InvalidInput("请选择满意、基本满意或不满意", field="satisfaction", rule="enum")
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.state != TicketState.RATING:
        raise TransitionNotAllowed("该工单当前不在待评价状态", rule="state:rate")
    round_no = ticket_round(ticket)
    try:
        with transaction.atomic():
            rating = Rating.objects.create(
                ticket=ticket,
                round=round_no,
                satisfaction=satisfaction,
                solved=solved,
                contacted=contacted,
                comment=comment.strip()[: settings.REASON_MAX],
                channel=channel,
                phone=ticket.citizen_phone,
            )
    except IntegrityError:
        raise TransitionNotAllowed("本轮办理已经评价过", rule="already_rated") from None
    label = Satisfaction(satisfaction).label
    event_record(
        ticket=ticket,
        actor=actor,
        action="rated",
        reason=rating.comment,
        data={
            "satisfaction": satisfaction,
            "solved": solved,
            "contacted": contacted,
            "round": round_no,
            "channel": channel,
        },
    )
    workflow.ticket_close(ticket=ticket, actor=actor, reason=f"市民评价：{label}")
    return rating
