"""评价反馈: record the citizen's rating (one per handling round) and close the ticket.

回访 tasks for operators live in `rating_callbacks`; the supervisor's 不满意 review in `rating_review`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from tickets.errors import InvalidInput, NotFound, TransitionNotAllowed
from tickets.models import (
    CallbackStatus,
    Cause,
    Outcome,
    Rating,
    RatingCallback,
    RatingRequest,
    RatingRequestState,
    Review,
    Satisfaction,
    Ticket,
)
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
    cause: str = "",
    callback: RatingCallback | None = None,
) -> Rating:
    """Record 满意 / 基本满意 / 不满意 for the current round and close the ticket (办结).

    A 不满意 whose cause lies with the unit (主观) waits in the supervisor's review queue, who
    decides on 重办 or a closing explanation. Any other open 回访 of this round is no longer needed.
    """
    if satisfaction not in Satisfaction.values:
        raise InvalidInput("请选择满意、基本满意或不满意", field="satisfaction", rule="enum")
    if cause and cause not in Cause.values:
        raise InvalidInput("不满意原因只能是主观或客观", field="cause", rule="enum")
    if satisfaction != Satisfaction.DISSATISFIED:
        cause = ""
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
                cause=cause,
                review=Review.PENDING if cause == Cause.SUBJECTIVE else "",
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
            "cause": cause,
            "unit": _rated_unit_id(ticket),
        },
    )
    RatingRequest.objects.filter(ticket=ticket, round=round_no, state=RatingRequestState.OPEN).update(
        state=RatingRequestState.ANSWERED
    )
    others = RatingCallback.objects.filter(ticket=ticket, round=round_no, status=CallbackStatus.OPEN)
    if callback is not None:
        others = others.exclude(pk=callback.pk)
    others.update(status=CallbackStatus.CANCELLED, note=f"市民已通过{channel}评价", done_at=timezone.now())
    workflow.ticket_close(ticket=ticket, actor=actor, reason=f"市民评价：{label}")
    return rating


def _rated_unit_id(ticket: Ticket) -> int | None:
    """The unit whose handling is rated: the lead unit of the round (kept on the event for metrics)."""
    return ticket.lead_unit_id


@transaction.atomic
def rating_request_open(*, ticket: Ticket) -> RatingRequest:
    """Start the rating round: the request expires after N days; phone tickets also get a 回访 task."""
    from tickets.services import rating_callbacks

    now = timezone.now()
    days = sla.active_profile().rating_expiry_days
    request, _ = RatingRequest.objects.get_or_create(
        ticket=ticket,
        round=ticket_round(ticket),
        defaults={"requested_at": now, "expires_at": now + timedelta(days=days)},
    )
    rating_callbacks.callback_schedule(ticket=ticket, now=now)
    return request


def rating_expire_due(*, now: datetime | None = None) -> list[int]:
    """未评价办结: close tickets whose rating request went unanswered past its expiry. Returns request ids."""
    now = now or timezone.now()
    closed: list[int] = []
    for request_id in RatingRequest.objects.filter(state=RatingRequestState.OPEN, expires_at__lte=now).values_list(
        "id", flat=True
    ):
        if _expire_one(request_id, now):
            closed.append(request_id)
    return closed


@transaction.atomic
def _expire_one(request_id: int, now: datetime) -> bool:
    request = RatingRequest.objects.select_for_update().select_related("ticket").get(pk=request_id)
    if request.state != RatingRequestState.OPEN or request.expires_at > now:
        return False
    ticket = Ticket.objects.select_for_update().get(pk=request.ticket_id)
    request.state = RatingRequestState.EXPIRED
    request.save(update_fields=["state"])
    RatingCallback.objects.filter(ticket=ticket, round=request.round, status=CallbackStatus.OPEN).update(
        status=CallbackStatus.CANCELLED, note="评价请求已超期", done_at=now
    )
    if ticket.state != TicketState.RATING or ticket_round(ticket) != request.round:
        return False
    days = sla.active_profile().rating_expiry_days
    workflow.ticket_close(
        ticket=ticket, actor=Actor.scheduler(), reason=f"评价请求{days}天未答复，按未评价办结", outcome=Outcome.UNRATED
    )
    return True
