"""评价反馈: record the citizen's rating (one per handling round) and close the ticket.

回访 tasks for operators live in `rating_callbacks`; the supervisor's 不满意 review in `rating_review`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from tickets.core.actors import Actor
from tickets.core.models import Outcome, Ticket
from tickets.core.services import workflow
from tickets.core.services.events import event_record
from tickets.core.states import TicketState
from tickets.errors import InvalidInput, NotFound, TransitionNotAllowed
from tickets.feedback.models import (
    Cause,
    Rating,
    RatingCallback,
    RatingCallbackState,
    RatingRequest,
    RatingRequestState,
    Review,
    Satisfaction,
)
from tickets.messaging.models import SmsMessage, SmsPurpose
from tickets.messaging.services import sms
from tickets.messaging.services.citizen_notifications import OPT_OUT_HINT, SIGNATURE
from tickets.sla.services import policy


def rating_requested(*, ticket: Ticket, master: Ticket | None = None) -> SmsMessage | None:
    """回访评价邀请: the centre accepted the unit's reply; the citizen rates by reply or by link.

    A merged child's citizen (并单) is asked about their own ticket, with the master named.
    """
    if not ticket.citizen_phone:
        return None

    merged = f"（与工单{master.number}合并办理）" if master is not None else ""
    body = (
        f"{SIGNATURE}您的工单{ticket.number}{merged}已办理完毕，请评价：回复1满意，2基本满意，3不满意"
        f"（不满意请在3后写明原因）；或打开 {rating_link(ticket)} 评价。{OPT_OUT_HINT}"
    )
    return sms.sms_enqueue(to=ticket.citizen_phone, body=body, purpose=SmsPurpose.RATING_REQUEST, ticket=ticket)


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
    max_age = timedelta(days=policy.active_profile().rating_expiry_days)
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


def _awaits_rating(ticket: Ticket) -> bool:
    """A merged child (并单) is rated in its own right once the master's reply is accepted."""
    return (
        ticket.state == TicketState.MERGED
        and ticket.rating_requests.filter(round=ticket_round(ticket), state=RatingRequestState.OPEN).exists()
    )


def can_rate(ticket: Ticket) -> bool:
    """The citizen may rate now: the ticket awaits its rating, or it is a merged child asked to rate."""
    return ticket.state == TicketState.RATING or _awaits_rating(ticket)


def open_rating_ticket(phone: str) -> Ticket | None:
    """The newest ticket from this number that waits for the citizen's rating (merged children included)."""
    if not phone:
        return None
    waiting = Q(state=TicketState.RATING) | Q(state=TicketState.MERGED, rating_requests__state=RatingRequestState.OPEN)
    return Ticket.objects.filter(waiting, citizen_phone=phone).order_by("-id").first()


CITIZEN_CHANNELS = ("sms", "web", "app")


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

    A 不满意 whose cause lies with the unit (主观), or whose cause nobody has judged yet (a citizen's
    own rating: 未判定), waits in the supervisor's review queue, who decides on 重办 or a closing
    explanation. On the web and in the app a 不满意 needs the citizen's reason; an SMS asks for it
    in its reply. A merged child (并单) is rated for itself and stays merged; its rating counts for
    the master's lead unit. Any other open 回访 of this round is no longer needed.
    """
    if satisfaction not in Satisfaction.values:
        raise InvalidInput("请选择满意、基本满意或不满意", field="satisfaction", rule="enum")
    if cause and cause not in Cause.values:
        raise InvalidInput("不满意原因只能是主观或客观", field="cause", rule="enum")
    comment = comment.strip()[: settings.REASON_MAX]
    if satisfaction != Satisfaction.DISSATISFIED:
        cause = ""
    elif not cause:
        cause = Cause.UNDETERMINED
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if not can_rate(ticket):
        raise TransitionNotAllowed("该工单当前不在待评价状态", rule="state:rate")
    if cause == Cause.UNDETERMINED and channel in ("web", "app") and not comment:
        raise InvalidInput("请写明不满意的原因", field="comment", rule="required")
    round_no = ticket_round(ticket)
    unit_id = _rated_unit_id(ticket)
    try:
        with transaction.atomic():
            rating = Rating.objects.create(
                ticket=ticket,
                round=round_no,
                satisfaction=satisfaction,
                solved=solved,
                contacted=contacted,
                comment=comment,
                channel=channel,
                phone=ticket.citizen_phone,
                cause=cause,
                unit_id=unit_id,
                review=Review.PENDING if cause in REVIEWED_CAUSES else "",
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
            "unit": unit_id,
        },
    )
    RatingRequest.objects.filter(ticket=ticket, round=round_no, state=RatingRequestState.OPEN).update(
        state=RatingRequestState.ANSWERED
    )
    others = RatingCallback.objects.filter(ticket=ticket, round=round_no, status=RatingCallbackState.OPEN)
    if callback is not None:
        others = others.exclude(pk=callback.pk)
    others.update(status=RatingCallbackState.CANCELLED, note=f"市民已通过{channel}评价", done_at=timezone.now())
    if ticket.state == TicketState.RATING:
        workflow.ticket_close(ticket=ticket, actor=actor, reason=f"市民评价：{label}")
    return rating


REVIEWED_CAUSES = (Cause.SUBJECTIVE, Cause.UNDETERMINED)


def _rated_unit_id(ticket: Ticket) -> int | None:
    """The unit whose handling is rated: the round's lead unit; a merged child's is the master's."""
    if ticket.state == TicketState.MERGED and ticket.merged_into_id:
        return Ticket.objects.filter(pk=ticket.merged_into_id).values_list("lead_unit_id", flat=True).first()
    return ticket.lead_unit_id


def sms_rating_awaiting(phone: str, *, now: datetime | None = None) -> Rating | None:
    """The SMS rating of this number that still lacks the follow-up answers (contact, solved, reason)."""
    if not phone:
        return None
    since = (now or timezone.now()) - timedelta(hours=SMS_FOLLOWUP_HOURS)
    latest = Rating.objects.filter(phone=phone, channel="sms", created_at__gte=since).order_by("-id").first()
    if latest is None:
        return None
    needs_reason = latest.satisfaction == Satisfaction.DISSATISFIED and not latest.comment
    return latest if latest.contacted is None or needs_reason else None


SMS_FOLLOWUP_HOURS = 24


def sms_rating_recent(phone: str, *, now: datetime | None = None) -> bool:
    """This number rated by SMS within the follow-up window (a "谢谢" after it is no new matter)."""
    if not phone:
        return False
    since = (now or timezone.now()) - timedelta(hours=SMS_FOLLOWUP_HOURS)
    return Rating.objects.filter(phone=phone, channel="sms", created_at__gte=since).exists()


@transaction.atomic
def rating_complete(
    *, rating: Rating, actor: Actor, contacted: bool | None = None, solved: bool | None = None, comment: str = ""
) -> Rating:
    """补充评价: the citizen's answers to the SMS follow-up (contact, solved, the reason for 不满意).

    With both answers the rating becomes a valid callback (有效回访) and counts in the 三率
    (`rating_completed` event); a reason alone goes with the 不满意 to the review queue.
    """
    rating = Rating.objects.select_for_update().get(pk=rating.pk)
    comment = comment.strip()[: settings.REASON_MAX]
    answers = contacted is not None and solved is not None
    if answers and rating.contacted is not None:
        raise TransitionNotAllowed("本次评价已经补充过", rule="rating_completed")
    if not answers and not comment:
        raise InvalidInput("请回复两位数字或不满意的原因", field="body", rule="required")
    fields: list[str] = []
    if answers:
        rating.contacted, rating.solved = contacted, solved
        fields += ["contacted", "solved"]
    if comment:
        rating.comment = f"{rating.comment}\n{comment}".strip()[: settings.REASON_MAX]
        fields.append("comment")
    rating.save(update_fields=fields)
    event_record(
        ticket=rating.ticket,
        actor=actor,
        action="rating_completed" if answers else "rating_reason_added",
        reason=comment,
        data={
            "rating": rating.pk,
            "round": rating.round,
            "satisfaction": rating.satisfaction,
            "contacted": rating.contacted,
            "solved": rating.solved,
            "unit": rating.unit_id,
        }
        if answers
        else {"rating": rating.pk, "round": rating.round},
    )
    return rating


def merged_children_rating_open(*, master: Ticket) -> int:
    """The master's reply is accepted: each merged child's citizen is asked to rate their own ticket."""
    asked = 0
    for child in master.merged_children.filter(state=TicketState.MERGED):
        if merged_child_rating_open(child=child, master=master):
            asked += 1
    return asked


def merged_child_rating_open(*, child: Ticket, master: Ticket) -> bool:
    """One child: its own rating request (expiry, SMS with its own link; 回访 task for phone)."""
    if RatingRequest.objects.filter(ticket=child, round=ticket_round(child)).exists():
        return False
    rating_request_open(ticket=child)
    rating_requested(ticket=child, master=master)
    event_record(
        ticket=child,
        actor=Actor.system("rating"),
        action="rating_requested",
        data={"master": master.number, "round": ticket_round(child)},
    )
    return True


@transaction.atomic
def rating_request_open(*, ticket: Ticket) -> RatingRequest:
    """Start the rating round: the request expires after N days; phone tickets also get a 回访 task."""
    # function-level: tickets.feedback.services.callbacks imports this module while loading (import cycle)
    from tickets.feedback.services import callbacks

    now = timezone.now()
    days = policy.active_profile().rating_expiry_days
    request, created = RatingRequest.objects.get_or_create(
        ticket=ticket,
        round=ticket_round(ticket),
        defaults={"requested_at": now, "expires_at": now + timedelta(days=days)},
    )
    if not created and request.state != RatingRequestState.ANSWERED:
        # Asked before as a merged child, then unmerged and handled on its own: a fresh request.
        request.requested_at, request.expires_at = now, now + timedelta(days=days)
        request.state = RatingRequestState.OPEN
        request.save(update_fields=["requested_at", "expires_at", "state"])
    callbacks.callback_schedule(ticket=ticket, now=now)
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
    RatingCallback.objects.filter(ticket=ticket, round=request.round, status=RatingCallbackState.OPEN).update(
        status=RatingCallbackState.CANCELLED, note="评价请求已超期", done_at=now
    )
    if ticket.state != TicketState.RATING or ticket_round(ticket) != request.round:
        return False
    days = policy.active_profile().rating_expiry_days
    workflow.ticket_close(
        ticket=ticket, actor=Actor.scheduler(), reason=f"评价请求{days}天未答复，按未评价办结", outcome=Outcome.UNRATED
    )
    return True
