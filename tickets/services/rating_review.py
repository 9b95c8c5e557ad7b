"""不满意审核: a supervisor rules on each 不满意 whose cause lies with the unit (主观).

重办 sends the ticket back to the lead unit with the citizen's reason and a new deadline
(`workflow.ticket_reopen`, which also escalates the third 重办 to a problem ticket); 办结 keeps it
closed with a recorded explanation.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from tickets.errors import InvalidInput, TransitionNotAllowed
from tickets.models import Rating, Review, Role
from tickets.services import workflow
from tickets.services.actors import Actor
from tickets.services.events import event_record

DECISIONS = ("reopen", "close")


def dissatisfied_queue() -> QuerySet[Rating]:
    return Rating.objects.filter(review=Review.PENDING).select_related("ticket", "ticket__lead_unit").order_by("id")


@transaction.atomic
def rating_decide(*, rating: Rating, actor: Actor, decision: str, reason: str) -> Rating:
    """重办 or close with an explanation; a rating is ruled on once."""
    actor.require_role(Role.SUPERVISOR)
    if decision not in DECISIONS:
        raise InvalidInput("处理决定只能是重办或说明办结", field="decision", rule="enum")
    reason = (reason or "").strip()[: settings.REASON_MAX]
    if not reason:
        raise InvalidInput("请填写处理理由", field="reason", rule="required")
    rating = Rating.objects.select_for_update().select_related("ticket").get(pk=rating.pk)
    if rating.review != Review.PENDING:
        raise TransitionNotAllowed("该不满意评价已处理", rule="review_done")
    if decision == "reopen":
        citizen = rating.comment or "市民不满意"
        workflow.ticket_reopen(ticket=rating.ticket, actor=actor, reason=f"市民意见：{citizen}；审核意见：{reason}")
        rating.review = Review.REOPENED
    else:
        event_record(
            ticket=rating.ticket,
            actor=actor,
            action="dissatisfaction_closed",
            reason=reason,
            data={"rating": rating.pk, "round": rating.round},
        )
        rating.review = Review.CLOSED
    rating.reviewed_by, rating.review_reason, rating.reviewed_at = actor.user, reason, timezone.now()
    rating.save(update_fields=["review", "reviewed_by", "review_reason", "reviewed_at"])
    return rating
