"""限时办结: what happens to an assignment's clocks after dispatch.

- the reply deadline moves (延期 approved, a pause ends): the 催办/督办/通报 moments are
  recomputed and their fired-markers reset, so a reminder pending for the old deadline is
  cancelled and the scanner works from the current one;
- 暂停计时 while the unit waits for the citizen (补充材料), if the policy allows it;
- a deadline that reaches a year without calendar data is flagged and the admins alerted;
  importing that year fills the deadline in (`calendar_gaps_fill`);
- centre time and unit time of a ticket, measured apart (`ticket_time_split`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from tickets.core.actors import Actor
from tickets.core.models import Assignment, Ticket, top_lead_q
from tickets.core.services.events import event_record
from tickets.core.states import AssignmentState, TicketState
from tickets.core.text import text_optional, text_required
from tickets.errors import TransitionNotAllowed
from tickets.sla.deadlines import paused_deadline
from tickets.sla.models import AlertKind
from tickets.sla.services import alerts
from tickets.sla.services import policy as sla_policy

log = logging.getLogger("tickets.sla")

UNFIRED = {"warned_at": None, "supervised_at": None, "noticed_at": None}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def reply_deadline_fields(*, assignment: Assignment, reply_due_at: datetime | None) -> dict[str, Any]:
    """Columns to write when the reply deadline becomes `reply_due_at`: new level moments, markers reset."""
    clocks = sla_policy.clocks_compute(
        policy=assignment.sla_policy,
        start=assignment.dispatched_at,
        reply_due_at=reply_due_at,
        sign_due_at=assignment.sign_due_at,
    )
    return {
        "reply_due_at": reply_due_at,
        "warn_at": clocks.levels.warn_at,
        "supervise_at": clocks.levels.supervise_at,
        "notice_at": clocks.levels.notice_at,
        "calendar_gap_year": clocks.calendar_gap,
        **UNFIRED,
    }


def _ticket_follow(assignment: Assignment, due_at: datetime | None) -> None:
    """The ticket's overall deadline is its top-level lead assignment's."""
    if assignment.is_top_lead:
        Ticket.objects.filter(pk=assignment.ticket_id).update(due_at=due_at)


def _unit_or_centre(actor: Actor, assignment: Assignment) -> None:
    if actor.user is not None and actor.user.is_centre:
        return
    actor.require_unit_of(assignment)


# --- 暂停计时 -------------------------------------------------------------------------------


@transaction.atomic
def assignment_pause_clock(*, assignment: Assignment, actor: Actor, reason: str) -> Assignment:
    """暂停计时: the unit waits for the citizen (补充材料); no 催办/督办 fires while paused."""
    reason = text_required(reason, field="reason", label="暂停原因")
    assignment = Assignment.objects.select_related("ticket", "sla_policy").get(pk=assignment.pk)
    _unit_or_centre(actor, assignment)
    policy = assignment.sla_policy
    if policy is not None and not policy.pause_allowed:
        raise TransitionNotAllowed("该类工单的时限政策不允许暂停计时", rule="pause_not_allowed")
    if assignment.state != AssignmentState.SIGNED:
        raise TransitionNotAllowed("只有办理中的派单可以暂停计时", rule="pause_state")
    if assignment.reply_due_at is None:
        raise TransitionNotAllowed("该派单暂无办结时限，不能暂停计时", rule="pause_no_deadline")
    now = timezone.now()
    if now >= assignment.reply_due_at:
        raise TransitionNotAllowed("已超过办结时限，不能暂停计时", rule="pause_after_deadline")
    # Guarded: two pauses at once, or a pause racing a reply, change the row once.
    moved = Assignment.objects.filter(
        pk=assignment.pk, clock_paused_at__isnull=True, ended_at__isnull=True, state=AssignmentState.SIGNED
    ).update(clock_paused_at=now, warn_at=None, supervise_at=None, notice_at=None)
    if not moved:
        raise TransitionNotAllowed("计时已暂停或派单已结束", rule="pause_twice")
    assignment.clock_paused_at = now
    assignment.warn_at = assignment.supervise_at = assignment.notice_at = None
    event_record(
        ticket=assignment.ticket,
        actor=actor,
        action="clock_paused",
        assignment=assignment,
        reason=reason,
        data={"reply_due_at": _iso(assignment.reply_due_at)},
    )
    return assignment


def _resume(assignment: Assignment, *, actor: Actor, now: datetime, reason: str) -> Assignment:
    paused_at = assignment.clock_paused_at
    if paused_at is None or assignment.reply_due_at is None:
        raise TransitionNotAllowed("计时未暂停", rule="resume_not_paused")
    new_due = paused_deadline(assignment.reply_due_at, paused_at, now)
    fields = reply_deadline_fields(assignment=assignment, reply_due_at=new_due)
    # Markers of levels that already fired before the pause stay fired; only the moments move.
    for marker in UNFIRED:
        fields.pop(marker)
    fields["paused_seconds"] = assignment.paused_seconds + int((now - paused_at).total_seconds())
    if not Assignment.objects.filter(pk=assignment.pk, clock_paused_at=paused_at).update(
        clock_paused_at=None, **fields
    ):
        raise TransitionNotAllowed("计时已恢复", rule="resume_twice")
    previous = assignment.reply_due_at
    for name, value in fields.items():
        setattr(assignment, name, value)
    assignment.clock_paused_at = None
    _ticket_follow(assignment, new_due)
    event_record(
        ticket=assignment.ticket,
        actor=actor,
        action="clock_resumed",
        assignment=assignment,
        reason=reason,
        data={
            "paused_seconds": int((now - paused_at).total_seconds()),
            "from": _iso(previous),
            "to": _iso(new_due),
        },
    )
    return assignment


@transaction.atomic
def assignment_resume_clock(*, assignment: Assignment, actor: Actor, reason: str = "") -> Assignment:
    """恢复计时: the citizen answered; the deadline moves by the length of the pause."""
    reason = text_optional(reason, field="reason", label="恢复说明")
    assignment = Assignment.objects.select_related("ticket", "sla_policy").get(pk=assignment.pk)
    _unit_or_centre(actor, assignment)
    return _resume(assignment, actor=actor, now=timezone.now(), reason=reason)


def resume_if_paused(*, assignment: Assignment, actor: Actor, now: datetime) -> None:
    """A reply ends the wait: resume first, so the on-time verdict uses the moved deadline."""
    if assignment.clock_paused_at is not None:
        _resume(assignment, actor=actor, now=now, reason="办复时自动恢复计时")


# --- calendar gaps ------------------------------------------------------------------------


def calendar_gap_flag(*, assignment: Assignment) -> None:
    """日历缺失: alert the admins once per missing year and record it on the ticket (live event)."""
    year = assignment.calendar_gap_year
    if year is None:
        return
    alerts.alert_raise(
        kind=AlertKind.CALENDAR_GAP,
        key=f"calendar_gap:{year}",
        title=f"{year}年工作日历尚未导入，相关派单时限无法计算",
        message=(
            f"有派单的时限计算需要{year}年的法定节假日安排。请在“工作日历”中导入{year}年的安排"
            f"（python manage.py calendar_import 文件路径，或后台上传），导入后时限将自动补算。"
        ),
        data={"year": year, "assignments": [assignment.pk]},
    )
    event_record(
        ticket=assignment.ticket,
        actor=Actor.system("sla"),
        action="sla.calendar_gap",
        assignment=assignment,
        reason=f"{year}年工作日历缺失，时限待导入后补算",
        data={"year": year},
    )


@dataclass(frozen=True)
class GapFill:
    filled: int
    still_missing: int


def calendar_gaps_fill(*, year: int | None = None) -> GapFill:
    """After an import: recompute the flagged assignments' deadlines from their policy and dispatch time.

    Each filled assignment gets an event. An ended assignment whose verdict was left open for
    want of a deadline gets it now, once; any other verdict is frozen and never touched.
    """
    flagged = Assignment.objects.filter(calendar_gap_year__isnull=False)
    if year is not None:
        flagged = flagged.filter(calendar_gap_year=year)
    filled = missing = 0
    for pk in list(flagged.order_by("id").values_list("pk", flat=True)):
        with transaction.atomic():
            assignment = (
                Assignment.objects.select_for_update(of=("self",))
                .select_related("ticket", "sla_policy")
                .filter(pk=pk, calendar_gap_year__isnull=False)
                .first()
            )
            if assignment is None:
                continue
            if _gap_fill_one(assignment):
                filled += 1
            else:
                missing += 1
    if year is not None and not Assignment.objects.filter(calendar_gap_year=year).exists():
        alerts.alert_resolve(key=f"calendar_gap:{year}", resolution=f"已导入{year}年工作日历，补算{filled}件派单时限")
    return GapFill(filled, missing)


def _gap_fill_one(assignment: Assignment) -> bool:
    clocks = sla_policy.clocks_compute(
        policy=assignment.sla_policy,
        start=assignment.dispatched_at,
        reply_due_at=assignment.reply_due_at,
        sign_due_at=assignment.sign_due_at,
    )
    fields: dict[str, Any] = {
        "sign_due_at": clocks.sign_due_at,
        "reply_due_at": clocks.reply_due_at,
        "warn_at": clocks.levels.warn_at,
        "supervise_at": clocks.levels.supervise_at,
        "notice_at": clocks.levels.notice_at,
        "calendar_gap_year": clocks.calendar_gap,
    }
    if assignment.signed_at and assignment.sign_on_time is None and clocks.sign_due_at:
        fields["sign_on_time"] = assignment.signed_at <= clocks.sign_due_at
    if assignment.replied_at and assignment.reply_on_time is None and clocks.reply_due_at:
        fields["reply_on_time"] = assignment.replied_at <= clocks.reply_due_at
    Assignment.objects.filter(pk=assignment.pk).update(**fields)
    previous_gap = assignment.calendar_gap_year
    for name, value in fields.items():
        setattr(assignment, name, value)
    if assignment.ended_at is None:
        _ticket_follow(assignment, assignment.reply_due_at)
    event_record(
        ticket=assignment.ticket,
        actor=Actor.system("calendar"),
        action="sla.deadline_filled",
        assignment=assignment,
        reason=f"已导入{previous_gap}年工作日历，补算时限",
        data={
            "sign_due_at": _iso(assignment.sign_due_at),
            "reply_due_at": _iso(assignment.reply_due_at),
            **({"calendar_gap": clocks.calendar_gap} if clocks.calendar_gap else {}),
        },
    )
    if clocks.calendar_gap is not None:
        calendar_gap_flag(assignment=assignment)
        return False
    return True


# --- centre time and unit time ------------------------------------------------------------

CENTRE_STATES = frozenset({TicketState.DRAFT, TicketState.REGISTERED, TicketState.DISPATCHING, TicketState.REPLIED})
UNIT_STATES = frozenset({TicketState.IN_PROGRESS})


def ticket_time_split(ticket: Ticket, *, now: datetime | None = None) -> dict[str, int]:
    """Seconds the ticket spent with the centre (intake → dispatch, review) and with the units.

    Taken from the ticket's own state history. Time the lead unit's clock was paused waiting for
    the citizen is the citizen's, not the unit's; the rating period is nobody's.
    """
    now = now or timezone.now()
    centre = unit = 0.0
    since, state = ticket.created_at, ""
    moves = ticket.events.filter(assignment__isnull=True).exclude(to_state="").order_by("id")
    for at, to_state in moves.values_list("created_at", "to_state"):
        span = max((at - since).total_seconds(), 0.0) if state else 0.0
        centre += span if state in CENTRE_STATES else 0.0
        unit += span if state in UNIT_STATES else 0.0
        since, state = at, to_state
    span = max((now - since).total_seconds(), 0.0)
    centre += span if state in CENTRE_STATES else 0.0
    unit += span if state in UNIT_STATES else 0.0
    paused = 0.0
    for seconds, paused_at in ticket.assignments.filter(top_lead_q()).values_list("paused_seconds", "clock_paused_at"):
        paused += seconds + (max((now - paused_at).total_seconds(), 0.0) if paused_at else 0.0)
    paused = min(paused, unit)
    return {"centre_seconds": int(centre), "unit_seconds": int(unit - paused), "paused_seconds": int(paused)}
