"""Reads of the call centre: the caller's panel (来电弹屏), the wallboard, the service levels, a
ticket's call recordings."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Min, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from tickets.callcentre import levels
from tickets.callcentre.models import CallRecording, Desk, QueuedCall, QueueOutcome, Seat, SeatState
from tickets.core import privacy
from tickets.core.models import Ticket
from tickets.core.states import OPEN_TICKET_STATES
from tickets.intake.models import CallbackTask, MissedCallState
from tickets.intake.selectors import AttachmentItem
from tickets.messaging.models import SmsOptOut
from tickets.metrics.models import same_caller_days
from tickets.org.models import User

SHANGHAI = ZoneInfo("Asia/Shanghai")
HISTORY = 10


def caller_panel(queued: QueuedCall) -> dict[str, Any]:
    """Everything the operator sees on the bridge, before any reader cut (the live payload and the
    page cut it through tickets.core.privacy): open and recent tickets, 重复来电, 退订, 保密 history."""
    phone = queued.phone
    tickets = list(Ticket.objects.filter(citizen_phone=phone).order_by("-id")[:HISTORY]) if phone else []
    tickets.sort(key=lambda t: (t.state not in OPEN_TICKET_STATES, -t.pk))
    since = timezone.now() - timedelta(days=same_caller_days())
    return {
        "call_sid": queued.call.call_sid,
        "desk": queued.desk.name,
        "phone": phone,
        "wait_seconds": queued.wait_seconds or 0,
        "repeat_caller": any(t.created_at >= since for t in tickets),
        "opted_out": bool(phone) and SmsOptOut.objects.filter(phone=phone).exists(),
        "confidential_history": any(t.confidential or t.anonymous for t in tickets),
        "tickets": tickets,
    }


def ticket_recording_items(ticket: Ticket, reader: User) -> list[AttachmentItem]:
    """The recordings of the ticket's calls, as the ticket's attachments (domain.md §9: the recording
    joins the ticket): for the centre only (`privacy.may_hear_recording`), each opened through the
    audited proxy (`recording-audio`, a 收听录音 row in TicketAccessLog), never Twilio's URL.

    A recording follows its call: one stored before the ticket was linked has no ticket of its own
    yet. Recordings purged after the retention period are left out, as a call's voicemail is."""
    if not privacy.may_hear_recording(reader):
        return []
    rows = (
        CallRecording.objects.filter(Q(ticket=ticket) | Q(ticket__isnull=True, call__ticket=ticket))
        .filter(purged_at__isnull=True)
        .order_by("id")
    )
    return [
        AttachmentItem(
            kind="recording",
            key=f"call-recording:{row.pk}",
            label="通话录音",
            source_label="来电",
            created_at=row.created_at,
            recording_id=row.pk,
            duration_seconds=row.duration_seconds,
        )
        for row in rows
    ]


def wallboard_snapshot(*, now: datetime | None = None) -> dict[str, Any]:
    """Queue length and longest wait per desk, operators by state (supervisors' wallboard)."""
    now = now or timezone.now()
    waiting = {
        row["desk"]: row
        for row in QueuedCall.objects.filter(outcome__in=(QueueOutcome.WAITING, QueueOutcome.OFFERED))
        .values("desk")
        # a transferred caller waits in the new desk's queue since the transfer
        .annotate(n=Count("id"), oldest=Min(Coalesce("transferred_at", "enqueued_at")))
    }
    desks = []
    for desk in Desk.objects.all():
        row = waiting.get(desk.pk)
        desks.append(
            {
                "code": desk.code,
                "name": desk.name,
                "waiting": row["n"] if row else 0,
                "longest_wait": int((now - row["oldest"]).total_seconds()) if row else 0,
            }
        )
    states = dict(Seat.objects.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    return {
        "desks": desks,
        "seats": [{"state": s.value, "label": s.label, "count": states.get(s.value, 0)} for s in SeatState],
        "at": now.isoformat(),
    }


def seats_board() -> list[dict[str, Any]]:
    rows = Seat.objects.select_related("user").order_by("user__username")
    return [
        {"user": s.user.get_username(), "name": s.user.get_full_name() or s.user.get_username(),
         "state": s.state, "label": s.get_state_display(), "since": s.state_since}
        for s in rows
    ]  # fmt: skip


def rule() -> levels.Rule:
    return levels.Rule(
        target_seconds=settings.CALLCENTRE_ANSWER_TARGET_SECONDS,
        short_seconds=settings.CALLCENTRE_SHORT_ABANDON_SECONDS,
        short_excluded=settings.CALLCENTRE_SHORT_ABANDON_EXCLUDED,
        callback_hours=settings.CALLCENTRE_CALLBACK_TARGET_HOURS,
    )


def call_facts(start: datetime, end: datetime) -> list[levels.CallFacts]:
    rows = (
        QueuedCall.objects.filter(enqueued_at__gte=start, enqueued_at__lt=end)
        .exclude(outcome__in=(QueueOutcome.WAITING, QueueOutcome.OFFERED))
        .select_related("desk", "operator")
        .order_by("id")
    )
    done_at = dict(
        CallbackTask.objects.filter(call__queued__enqueued_at__gte=start, call__queued__enqueued_at__lt=end)
        .filter(state=MissedCallState.DONE)
        .values_list("call_id", "done_at")
    )
    return [
        levels.CallFacts(
            enqueued_at=q.enqueued_at,
            outcome=q.outcome,
            wait_seconds=q.wait_seconds or 0,
            handle_seconds=q.handle_seconds,
            desk=q.desk.name,
            operator=q.operator.get_username() if q.operator else "",
            callback_done_at=done_at.get(q.call_id),
            ended_at=q.ended_at,
        )
        for q in rows
    ]


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)
    return start, start + timedelta(days=1)


def service_levels(*, start: datetime, end: datetime) -> dict[str, Any]:
    """The figures for a period, and by hour, day, desk and operator, against the targets."""
    facts = call_facts(start, end)
    current = rule()
    return {
        "total": levels.figures(facts, current),
        "by_hour": levels.grouped(facts, current, lambda c: f"{c.enqueued_at.astimezone(SHANGHAI):%H}"),
        "by_day": levels.grouped(facts, current, lambda c: f"{c.enqueued_at.astimezone(SHANGHAI):%Y-%m-%d}"),
        "by_desk": levels.grouped(facts, current, lambda c: c.desk),
        "by_operator": levels.grouped(facts, current, lambda c: c.operator or "—"),
        "targets": {
            "answer_seconds": current.target_seconds,
            "connection_rate": settings.CALLCENTRE_CONNECTION_TARGET,
        },
    }
