"""回访: the day after the centre accepts a phone ticket's reply, an operator calls the citizen back.

Tasks are shared fairly: each new one goes to the active operator with the fewest open callbacks
(ties to the lowest id, so the choice is deterministic). The operator records whether the call got
through (有效回访), whether the unit made contact, whether the matter is solved, the satisfaction,
and for 不满意 whether the cause lies with the unit (主观) or outside it (客观).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from tickets.core.actors import Actor
from tickets.core.models import Channel, Ticket
from tickets.core.services.events import event_record
from tickets.core.text import text_optional
from tickets.errors import InvalidInput, NotFound, NotPermitted, TransitionNotAllowed
from tickets.feedback.models import Rating, RatingCallback, RatingCallbackState, Satisfaction
from tickets.feedback.services.rating import rating_record, ticket_round
from tickets.org.models import Role, User

CALLBACK_HOUR = 9  # local time the day after acceptance


def callback_due_at(now: datetime) -> datetime:
    """09:00 Asia/Shanghai on the day after `now`."""
    local = timezone.localtime(now)
    next_day = local.date() + timedelta(days=1)
    return timezone.make_aware(datetime.combine(next_day, time(CALLBACK_HOUR)), timezone.get_current_timezone())


def _least_busy_operator() -> User | None:
    return (
        User.objects.filter(role=Role.OPERATOR, is_active=True)
        .annotate(open_callbacks=Count("rating_callbacks", filter=Q(rating_callbacks__status=RatingCallbackState.OPEN)))
        .order_by("open_callbacks", "id")
        .first()
    )


def callback_schedule(*, ticket: Ticket, now: datetime) -> RatingCallback | None:
    """Create the 回访 task of this round for a phone ticket (none for other channels or without operators)."""
    if ticket.channel != Channel.PHONE or not ticket.citizen_phone:
        return None
    round_no = ticket_round(ticket)
    existing = RatingCallback.objects.filter(ticket=ticket, round=round_no).first()
    if existing is not None:
        return existing
    operator = _least_busy_operator()
    if operator is None:
        return None
    callback = RatingCallback.objects.create(
        ticket=ticket, round=round_no, operator=operator, due_at=callback_due_at(now)
    )
    event_record(
        ticket=ticket,
        actor=Actor.system("rating"),
        action="callback_scheduled",
        data={"operator": operator.get_username(), "due_at": callback.due_at.isoformat(), "round": round_no},
    )
    return callback


def callbacks_drop_open(*, ticket: Ticket, note: str) -> int:
    """The ticket left the rating round (办结 by the centre, 重办): its open 回访 tasks are no longer
    needed and leave the operators' queue (recording one would be refused). Returns how many."""
    return RatingCallback.objects.filter(ticket=ticket, status=RatingCallbackState.OPEN).update(
        status=RatingCallbackState.CANCELLED, note=note, done_at=timezone.now()
    )


def callback_queue(user: User) -> QuerySet[RatingCallback]:
    """An operator's open 回访 tasks, earliest first; supervisors and admins see every operator's."""
    qs = RatingCallback.objects.filter(status=RatingCallbackState.OPEN).select_related("ticket", "operator")
    if user.is_superuser or user.role in (Role.SUPERVISOR, Role.ADMIN):
        return qs.order_by("due_at", "id")
    return qs.filter(operator=user).order_by("due_at", "id")


def callback_get(user: User, callback_id: int) -> RatingCallback:
    found = callback_queue(user).filter(pk=callback_id).first() or (
        RatingCallback.objects.filter(pk=callback_id, operator=user).first()
    )
    if found is None:
        raise NotFound("回访任务不存在", rule="callback")
    return found


@transaction.atomic
def callback_record(
    *,
    callback: RatingCallback,
    actor: Actor,
    reached: bool,
    contacted: bool | None = None,
    solved: bool | None = None,
    satisfaction: str = "",
    comment: str = "",
    cause: str = "",
) -> RatingCallback:
    """Record one 回访. A call that got through (有效回访) records the citizen's rating and closes the ticket."""
    actor.require_role(Role.OPERATOR, Role.SUPERVISOR)
    comment = text_optional(comment, field="comment", label="回访记录")
    callback = RatingCallback.objects.select_for_update().get(pk=callback.pk)
    if actor.user is not None and actor.user.role == Role.OPERATOR and callback.operator_id != actor.user.pk:
        raise NotPermitted("这条回访任务分配给了其他话务员", rule="callback_owner")
    if callback.status != RatingCallbackState.OPEN:
        raise TransitionNotAllowed("该回访任务已完成或无需回访", rule="callback_closed")
    now = timezone.now()
    callback.reached, callback.done_at, callback.status = reached, now, RatingCallbackState.DONE
    if not reached:
        callback.note = comment.strip()
        callback.save(update_fields=["reached", "done_at", "status", "note"])
        event_record(ticket=callback.ticket, actor=actor, action="callback_unreached", reason=callback.note, data={})
        return callback
    if satisfaction not in Satisfaction.values:
        raise InvalidInput("请选择满意、基本满意或不满意", field="satisfaction", rule="required")
    if satisfaction == Satisfaction.DISSATISFIED and not cause:
        raise InvalidInput("不满意时请选择原因（主观或客观）", field="cause", rule="required")
    if contacted is None or solved is None:
        raise InvalidInput("请记录单位是否联系、问题是否解决", field="solved", rule="required")
    # Done before the rating closes the ticket: the close drops the ticket's open 回访 tasks, not this one.
    callback.save(update_fields=["reached", "done_at", "status"])
    rating: Rating = rating_record(
        ticket=callback.ticket,
        actor=actor,
        satisfaction=satisfaction,
        channel="phone",
        solved=solved,
        contacted=contacted,
        comment=comment,
        cause=cause,
        callback=callback,
    )
    callback.rating = rating
    callback.save(update_fields=["rating"])
    return callback
