"""统一督办: problem tickets (问题工单) and escalation. The deadline scanner lives in `sla_scanner`."""

from __future__ import annotations

from django.db import transaction

from tickets.models import Ticket
from tickets.services import sla
from tickets.services.actors import Actor
from tickets.services.events import event_record


@transaction.atomic
def ticket_check_problem(*, ticket: Ticket, actor: Actor) -> bool:
    """提级督办: N reopens without a solution, or N units passed without a lead taking it.

    N comes from the city profile. The flag is set with a guarded update, so the escalation
    event is written once even if two operations trigger it together.
    """
    profile = sla.active_profile()
    reasons = []
    if ticket.reopen_count >= profile.problem_reopen_threshold:
        reasons.append(f"重办{ticket.reopen_count}次仍未解决")
    if ticket.units_passed >= profile.problem_units_threshold and ticket.lead_unit_id is None:
        reasons.append(f"已流转{ticket.units_passed}个单位仍无单位主办")
    if not reasons:
        return False
    if not Ticket.objects.filter(pk=ticket.pk, is_problem=False).update(is_problem=True):
        return False
    ticket.is_problem = True
    event_record(
        ticket=ticket,
        actor=Actor.system("supervision"),
        action="escalated_problem",
        reason="；".join(reasons),
        data={"trigger": actor.label},
    )
    return True
