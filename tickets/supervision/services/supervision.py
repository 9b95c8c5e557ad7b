"""统一督办: notices to units, 挂牌督办, manual 督办, problem tickets (问题工单) and escalation.

The deadline scanner (automatic 催办/督办/通报) lives in `sla_scanner`; it writes the same
Supervision rows through `supervision_build`. Every act is a Supervision row (the notice as
sent, to whom) plus a TicketEvent, which is what supervisors see live.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from channels_app.broadcast import event_announce
from tickets.core import privacy
from tickets.core.actors import Actor
from tickets.core.models import Assignment, AssignmentRole, Ticket
from tickets.core.services.events import event_record
from tickets.core.states import OPEN_ASSIGNMENT_STATES, OPEN_TICKET_STATES
from tickets.core.text import text_required
from tickets.errors import TransitionNotAllowed
from tickets.messaging.services import sms
from tickets.org.models import Role, Unit, User
from tickets.sla.services import policy
from tickets.supervision.models import NoticeSmsStatus, Supervision, SupervisionLevel
from tickets.supervision.services import notice_texts

log = logging.getLogger("tickets.supervision")

SUPERVISORS = (Role.SUPERVISOR,)


# --- building and sending notices ---------------------------------------------------------


def unit_recipients(unit: Unit | None) -> list[dict[str, str]]:
    """Who hears of a notice: the unit's liaison (联络人); failing a phone, its staff accounts."""
    if unit is None:
        return []
    if unit.liaison_phone:
        return [{"kind": "liaison", "name": unit.liaison_name, "phone": unit.liaison_phone}]
    staff = User.objects.filter(unit=unit, role=Role.UNIT_STAFF, is_active=True).order_by("id")[:5]
    return [{"kind": "unit_staff", "username": u.get_username()} for u in staff]


def supervision_build(
    *,
    ticket: Ticket,
    level: str,
    body: str,
    actor: Actor,
    assignment: Assignment | None = None,
    unit: Unit | None = None,
    due_at: datetime | None = None,
    clock: str = "",
    note: str = "",
    now: datetime | None = None,
    recipients: list[dict[str, str]] | None = None,
) -> Supervision:
    """An unsaved Supervision with its notice text rendered from the level's template."""
    unit = unit or (assignment.unit if assignment else None)
    notice = notice_texts.notice_render(
        body=body,
        level=level,
        ticket_number=ticket.number,
        ticket_title=ticket.title,
        unit_name=unit.name if unit else "",
        due_at=due_at,
        now=now or timezone.now(),
        note=note,
        clock=clock,
        round_no=assignment.round if assignment else None,
    )
    text = privacy.citizen_text(notice, ticket, None)  # addressed to the unit: as a unit may read it
    return Supervision(
        ticket=ticket,
        assignment=assignment,
        unit=unit,
        level=level,
        clock=clock,
        due_at=due_at,
        text=text,
        note=note,
        recipients=unit_recipients(unit) if recipients is None else recipients,
        issued_by=actor.user,
        issued_by_label="" if actor.user else actor.label,
    )


def supervision_issue(
    *,
    ticket: Ticket,
    level: str,
    actor: Actor,
    action: str = "supervision.issued",
    assignment: Assignment | None = None,
    unit: Unit | None = None,
    due_at: datetime | None = None,
    clock: str = "",
    note: str = "",
) -> Supervision:
    """One notice: the Supervision row, its event (pushed live on commit) and the SMS after commit."""
    supervision = supervision_build(
        ticket=ticket,
        level=level,
        body=notice_texts.notice_templates()[level],
        actor=actor,
        assignment=assignment,
        unit=unit,
        due_at=due_at,
        clock=clock,
        note=note,
    )
    supervision.save()
    event_record(
        ticket=ticket,
        actor=actor,
        action=action,
        assignment=assignment,
        reason=supervision.text,
        data={**supervision_event_data(supervision), **({"note": note} if note else {})},
    )
    transaction.on_commit(lambda: supervisions_notify([supervision.pk]), robust=True)
    return supervision


def supervision_event_data(supervision: Supervision, *, unit_code: str | None = None) -> dict[str, Any]:
    """The event's data; the notice text itself is the event's reason."""
    if unit_code is None and supervision.unit_id:
        unit_code = supervision.unit.code if supervision.unit else None
    return {
        "supervision": supervision.pk,
        "level": supervision.level,
        "level_label": SupervisionLevel(supervision.level).label,
        "clock": supervision.clock,
        "unit": unit_code,
        "due_at": supervision.due_at.isoformat() if supervision.due_at else None,
    }


def supervision_notify(supervision: Supervision, *, record: bool = True) -> str:
    """Send the notice to its recipients by SMS. THE place the notification service is wired.

    Each liaison number gets an SmsMessage through `tickets.messaging.services.sms.sms_enqueue` (stored,
    sent after commit, retried, delivery tracked there).
    """
    phones = [r["phone"] for r in supervision.recipients if r.get("phone")]
    if not phones:
        status = NoticeSmsStatus.NO_RECIPIENT
    else:
        for phone in phones:
            sms.sms_enqueue(to=phone, body=supervision.text, ticket=supervision.ticket)
        status = NoticeSmsStatus.SENT
    if record:
        Supervision.objects.filter(pk=supervision.pk).update(
            sms_status=status, notified_at=timezone.now() if status == NoticeSmsStatus.SENT else None
        )
    return status


def supervisions_notify(supervision_ids: Iterable[int]) -> list[int]:
    """Notify a batch, once. Returns the ids this call notified.

    The rows still `pending` are claimed (FOR UPDATE SKIP LOCKED) in the transaction that writes
    their SMS rows and statuses: a task run twice (redelivered after its worker died, or queued
    again by `supervisions_notify_pending`) sends nothing twice, and a run killed half-way rolls
    back and leaves them pending for the next. Statuses are written with one update per outcome.
    """
    ids = list(supervision_ids)
    if not ids:
        return []
    with transaction.atomic():
        claimed = list(
            Supervision.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk__in=ids, sms_status=NoticeSmsStatus.PENDING)
            .select_related("ticket")
            .order_by("id")
        )
        outcomes: dict[str, list[int]] = {}
        for supervision in claimed:
            try:
                with transaction.atomic():  # a savepoint: one failed notice must not stop the rest
                    status = supervision_notify(supervision, record=False)
            except Exception:
                log.exception("supervision %s: notify failed", supervision.pk)
                status = NoticeSmsStatus.FAILED
            outcomes.setdefault(status, []).append(supervision.pk)
        now = timezone.now()
        for status, done in outcomes.items():
            Supervision.objects.filter(pk__in=done).update(
                sms_status=status, notified_at=now if status == NoticeSmsStatus.SENT else None
            )
    return [s.pk for s in claimed]


def supervisions_notify_pending(*, now: datetime | None = None, batch: int = 500) -> list[int]:
    """Notices still `pending` well after they were written: their fan-out task was lost (the
    broker was down at commit, or the process died before enqueueing). Sent now, once."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.SUPERVISION_PENDING_AFTER_SECONDS)
    ids = list(
        Supervision.objects.filter(sms_status=NoticeSmsStatus.PENDING, created_at__lt=cutoff)
        .order_by("id")
        .values_list("id", flat=True)[:batch]
    )
    return supervisions_notify(ids)


def supervisions_fanout(supervision_ids: list[int], event_ids: list[int]) -> None:
    """After a scanner batch commits: push its events live and send its SMS (a worker's job)."""
    for event_id in event_ids:
        try:
            event_announce(event_id)
        except Exception:  # the live layer being down must not lose the SMS
            log.exception("event %s: live push failed", event_id)
    supervisions_notify(supervision_ids)


# --- the supervisor's acts ------------------------------------------------------------------


def _open_ticket(ticket_id: int) -> Ticket:
    ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
    if ticket.state not in OPEN_TICKET_STATES:
        raise TransitionNotAllowed("工单已结束，不能督办", rule="supervise_ended")
    return ticket


def _targets(ticket: Ticket) -> list[Assignment]:
    """Whom a 督办 goes to: the open lead assignments, else any open assignment."""
    open_ = list(
        ticket.assignments.filter(state__in=OPEN_ASSIGNMENT_STATES).select_related("unit", "ticket").order_by("id")
    )
    leads = [a for a in open_ if a.role == AssignmentRole.LEAD]
    return leads or open_


def _required(value: str, field: str, what: str) -> str:
    return text_required(value, field=field, label=what)


@transaction.atomic
def ticket_supervise(*, ticket: Ticket, actor: Actor, note: str) -> list[Supervision]:
    """人工督办: a supervisor's notice with a note to every unit handling the ticket."""
    actor.require_role(*SUPERVISORS)
    note = _required(note, "note", "督办意见")
    ticket = _open_ticket(ticket.pk)
    if not _targets(ticket):
        raise TransitionNotAllowed("该工单当前没有在办的承办单位，无法督办", rule="supervise_no_unit")
    return _issue_to_units(ticket=ticket, level=SupervisionLevel.MANUAL, actor=actor, note=note)


def _issue_to_units(
    *, ticket: Ticket, level: str, actor: Actor, note: str, action: str = "supervision.issued"
) -> list[Supervision]:
    """One notice to every unit handling the ticket, on its reply clock; with none open, one notice
    without a unit, kept as the centre's own record."""
    targets: list[Assignment | None] = [*_targets(ticket)] or [None]
    return [
        supervision_issue(
            ticket=ticket,
            level=level,
            actor=actor,
            action=action,
            assignment=target,
            due_at=target.reply_due_at if target else None,
            clock="reply" if target else "",
            note=note,
        )
        for target in targets
    ]


@transaction.atomic
def ticket_flag(*, ticket: Ticket, actor: Actor, reason: str) -> Ticket:
    """挂牌督办: the top level of supervision, set by a supervisor; the lead unit is told."""
    actor.require_role(*SUPERVISORS)
    reason = _required(reason, "reason", "挂牌督办理由")
    ticket = _open_ticket(ticket.pk)
    if not Ticket.objects.filter(pk=ticket.pk, is_flagged=False).update(is_flagged=True, updated_at=timezone.now()):
        raise TransitionNotAllowed("该工单已挂牌督办", rule="flag_twice")
    ticket.is_flagged = True
    _issue_to_units(ticket=ticket, level=SupervisionLevel.FLAGGED, actor=actor, note=reason)
    return ticket


@transaction.atomic
def ticket_unflag(*, ticket: Ticket, actor: Actor, reason: str) -> Ticket:
    """撤销挂牌督办."""
    actor.require_role(*SUPERVISORS)
    reason = _required(reason, "reason", "撤销挂牌理由")
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if not Ticket.objects.filter(pk=ticket.pk, is_flagged=True).update(is_flagged=False, updated_at=timezone.now()):
        raise TransitionNotAllowed("该工单未挂牌督办", rule="unflag_not_flagged")
    ticket.is_flagged = False
    event_record(ticket=ticket, actor=actor, action="supervision.unflagged", reason=reason)
    return ticket


# --- problem tickets ------------------------------------------------------------------------


@transaction.atomic
def ticket_check_problem(*, ticket: Ticket, actor: Actor) -> bool:
    """提级督办: N reopens without a solution, or N units passed without a lead taking it.

    N comes from the city profile. The flag is set with a guarded update, so the escalation
    event is written once even if two operations trigger it together.
    """
    profile = policy.active_profile()
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
    reason = "；".join(reasons)
    _issue_to_units(
        ticket=ticket,
        level=SupervisionLevel.ESCALATED,
        actor=Actor.system("supervision"),
        action="escalated_problem",
        note=reason,
    )
    return True
