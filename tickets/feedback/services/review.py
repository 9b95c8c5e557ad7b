"""不满意审核: a supervisor rules on each 不满意 whose cause lies with the unit (主观) or is not judged yet.

重办 sends the ticket back to the lead unit with the citizen's reason and a new deadline
(`workflow.ticket_reopen`, which also escalates the third 重办 to a problem ticket); 办结 keeps it
closed with a recorded explanation.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from tickets.core.actors import Actor
from tickets.core.services import workflow
from tickets.core.services.events import event_record
from tickets.core.states import TicketState
from tickets.core.text import text_required
from tickets.errors import InvalidInput, TransitionNotAllowed
from tickets.feedback.models import Cause, Rating, Review
from tickets.org.models import Role

DECISIONS = ("reopen", "close")


def dissatisfied_queue() -> QuerySet[Rating]:
    return Rating.objects.filter(review=Review.PENDING).select_related("ticket", "ticket__lead_unit").order_by("id")


@transaction.atomic
def rating_decide(*, rating: Rating, actor: Actor, decision: str, reason: str, cause: str = "") -> Rating:
    """重办 or close with an explanation; a rating is ruled on once.

    A citizen's own 不满意 arrives 未判定: the supervisor classifies it (主观/客观) with the ruling.
    Only a cause on the unit's side (主观) can send the ticket back. A merged child's 不满意 sends
    back the master, whose handling it rates.
    """
    actor.require_role(Role.SUPERVISOR)
    if decision not in DECISIONS:
        raise InvalidInput("处理决定只能是重办或说明办结", field="decision", rule="enum")
    if cause and cause not in (Cause.SUBJECTIVE, Cause.OBJECTIVE):
        raise InvalidInput("不满意原因只能判定为主观或客观", field="cause", rule="enum")
    reason = text_required(reason, field="reason", label="处理理由")
    rating = Rating.objects.select_for_update().select_related("ticket").get(pk=rating.pk)
    if rating.review != Review.PENDING:
        raise TransitionNotAllowed("该不满意评价已处理", rule="review_done")
    cause = cause or rating.cause
    if cause == Cause.UNDETERMINED:
        raise InvalidInput("请先判定不满意原因：承办单位主观原因或客观原因", field="cause", rule="required")
    if decision == "reopen" and cause != Cause.SUBJECTIVE:
        raise TransitionNotAllowed("客观原因造成的不满意不能重办，请说明办结", rule="reopen_needs_subjective")
    if decision == "reopen":
        citizen = rating.comment or "市民不满意"
        target = rating.ticket
        if target.state == TicketState.MERGED and target.merged_into_id:
            target = target.merged_into  # type: ignore[assignment]
            citizen = f"并单工单{rating.ticket.number}的市民意见：{citizen}"
        else:
            citizen = f"市民意见：{citizen}"
        workflow.ticket_reopen(ticket=target, actor=actor, reason=f"{citizen}；审核意见：{reason}")
        rating.review = Review.REOPENED
    else:
        event_record(
            ticket=rating.ticket,
            actor=actor,
            action="dissatisfaction_closed",
            reason=reason,
            data={"rating": rating.pk, "round": rating.round, "cause": cause},
        )
        rating.review = Review.CLOSED
    rating.cause = cause
    rating.reviewed_by, rating.review_reason, rating.reviewed_at = actor.user, reason, timezone.now()
    rating.save(update_fields=["review", "reviewed_by", "review_reason", "reviewed_at", "cause"])
    return rating
