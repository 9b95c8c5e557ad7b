"""Reads for the supervisor's board (统一督办): what is overdue, due today or tomorrow, problem tickets."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from tickets.core.models import Assignment, Ticket
from tickets.core.states import OPEN_ASSIGNMENT_STATES, OPEN_TICKET_STATES, AssignmentState
from tickets.errors import InvalidInput
from tickets.org.models import UNIT_GROUPS, Unit
from tickets.sla.deadlines import SHANGHAI
from tickets.supervision.models import Supervision, SupervisionLevel

BUCKETS = ("overdue", "today", "tomorrow", "problem")
GROUPS = tuple(sorted({g for g in UNIT_GROUPS.values() if g != "centre"}))


def _local_midnight(day_offset: int, now: datetime) -> datetime:
    day = now.astimezone(SHANGHAI).date() + timedelta(days=day_offset)
    return datetime.combine(day, time(0, 0), tzinfo=SHANGHAI)


def _open_assignments(*, unit: Unit | None, group: str | None) -> QuerySet[Assignment]:
    qs = Assignment.objects.filter(ended_at__isnull=True, state__in=OPEN_ASSIGNMENT_STATES)
    if unit is not None:
        qs = qs.filter(unit_path__startswith=unit.path)
    if group:
        if group not in GROUPS:
            raise InvalidInput("不是有效的单位分组", field="group", rule="enum")
        qs = qs.filter(unit__kind__in=[kind for kind, g in UNIT_GROUPS.items() if g == group])
    return qs


def supervision_board(
    *, bucket: str, unit: Unit | None = None, group: str | None = None, now: datetime | None = None
) -> QuerySet[Ticket]:
    """Tickets in one bucket, the nearest (or most overdue) deadline first.

    overdue / today / tomorrow look at each open assignment's running 办结 clock (a paused clock
    is not running); unit and group narrow to assignments of that unit's subtree or unit group.
    """
    if bucket not in BUCKETS:
        raise InvalidInput("bucket 须为 overdue、today、tomorrow 或 problem", field="bucket", rule="enum")
    now = now or timezone.now()
    matching = _open_assignments(unit=unit, group=group).filter(ticket=OuterRef("pk"))
    if bucket == "problem":
        qs = Ticket.objects.filter(is_problem=True, state__in=OPEN_TICKET_STATES)
        if unit is not None or group:
            qs = qs.filter(Exists(matching))
        qs = qs.annotate(board_due_at=Subquery(matching.order_by("reply_due_at").values("reply_due_at")[:1]))
        ordered = qs.order_by("-id")
    else:
        running = matching.filter(clock_paused_at__isnull=True, reply_due_at__isnull=False)
        window = {
            "overdue": Q(reply_due_at__lt=now),
            "today": Q(reply_due_at__gte=now, reply_due_at__lt=_local_midnight(1, now)),
            "tomorrow": Q(reply_due_at__gte=_local_midnight(1, now), reply_due_at__lt=_local_midnight(2, now)),
        }[bucket]
        due = running.filter(window)
        qs = Ticket.objects.filter(Exists(due)).annotate(
            board_due_at=Subquery(due.order_by("reply_due_at").values("reply_due_at")[:1])
        )
        ordered = qs.order_by("board_due_at", "id")
    return ordered.select_related("category", "jurisdiction", "lead_unit").prefetch_related(
        Prefetch(
            "assignments",
            queryset=Assignment.objects.filter(ended_at__isnull=True).select_related("unit").order_by("id"),
            to_attr="open_assignments",
        )
    )


def pending_requests(*, kind: str | None = None) -> QuerySet[Assignment]:
    """Return (退回) and extension (延期) requests waiting for the centre, oldest first."""
    states = {"return": [AssignmentState.RETURN_REQUESTED], "extension": [AssignmentState.EXTENSION_REQUESTED]}
    if kind is not None and kind not in states:
        raise InvalidInput("kind 须为 return 或 extension", field="kind", rule="enum")
    wanted = states[kind] if kind else [s for v in states.values() for s in v]
    return Assignment.objects.filter(state__in=wanted).select_related("ticket", "unit").order_by("id")


def ticket_supervisions(ticket: Ticket) -> QuerySet[Supervision]:
    return ticket.supervisions.select_related("unit", "issued_by").order_by("id")


SUPERVISING_LEVELS = (SupervisionLevel.SUPERVISION, SupervisionLevel.MANUAL, SupervisionLevel.ESCALATED)


def latest_supervisions(ticket_ids: list[int]) -> dict[int, Supervision]:
    """督办 already issued (by the scanner, a supervisor or an escalation): the newest per ticket, one query."""
    latest: dict[int, Supervision] = {}
    rows = Supervision.objects.filter(ticket_id__in=ticket_ids, level__in=SUPERVISING_LEVELS).order_by("id")
    for row in rows.only("id", "ticket_id", "level", "created_at"):
        latest[row.ticket_id] = row
    return latest
