"""统一督办 scanner: finds due assignments through partial indexes and acts once per assignment and level.

Levels, in the order a tick processes them:

======== ======================= ================= ======================================
level    due column              fired marker      act (TicketEvent action)
======== ======================= ================= ======================================
sign     sign_due_at (签收时限)   sign_warned_at    催办签收 (``sla.overdue``, clock sign)
warn     warn_at                 warned_at         催办 before the deadline (``sla.warning``)
supervise supervise_at           supervised_at     督办 after it (``sla.overdue``)
notice   notice_at               noticed_at        通报 later (``supervision.issued``)
======== ======================= ================= ======================================

Exactly once, also with two scanners at once: a batch is claimed with ``SELECT … FOR UPDATE
SKIP LOCKED`` (PostgreSQL; a second scanner takes other rows instead of waiting), then flipped
with a guarded ``UPDATE … SET <marker> = now WHERE id IN (…) AND <marker> IS NULL AND <due> <= now
… RETURNING id``. Only the rows that update returns are acted on, so even without the row locks
(SQLite) a row can fire only for the scanner whose update flipped its marker. A moved deadline
(延期, pause) rewrites the due column and resets the markers in the same row, so a scanner that
read the old deadline fails the guard instead of firing.

A batch's Supervision rows and events are written in bulk in one transaction; the live push and
the SMS ("fan-out") run after commit, by default inline, from the Celery task in a worker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from tickets.models import ActorKind, Assignment, Supervision, SupervisionLevel, TicketEvent
from tickets.services import notices, supervision
from tickets.services.actors import Actor
from tickets.states import AssignmentState

log = logging.getLogger("tickets.sla")

Fanout = Callable[[list[int], list[int]], None]


@dataclass(frozen=True)
class Level:
    key: str
    level: str
    due: str
    marker: str
    clock: str
    action: str
    scope: Q  # which rows the level concerns (beyond "due and not yet fired")
    scope_sql: str
    scope_params: tuple[Any, ...] = ()


_OPEN = Q(ended_at__isnull=True, clock_paused_at__isnull=True)
_OPEN_SQL = "ended_at IS NULL AND clock_paused_at IS NULL"

LEVELS: tuple[Level, ...] = (
    Level(
        "sign",
        SupervisionLevel.SIGN_REMINDER,
        "sign_due_at",
        "sign_warned_at",
        "sign",
        "sla.overdue",
        Q(state=AssignmentState.PENDING_SIGN),
        "state = %s",
        (AssignmentState.PENDING_SIGN.value,),
    ),
    Level("warn", SupervisionLevel.REMINDER, "warn_at", "warned_at", "reply", "sla.warning", _OPEN, _OPEN_SQL),
    Level(
        "supervise",
        SupervisionLevel.SUPERVISION,
        "supervise_at",
        "supervised_at",
        "reply",
        "sla.overdue",
        _OPEN,
        _OPEN_SQL,
    ),
    # 通报 follows a 督办 that actually went out, never overtakes it.
    Level(
        "notice",
        SupervisionLevel.PUBLIC_NOTICE,
        "notice_at",
        "noticed_at",
        "reply",
        "supervision.issued",
        _OPEN & Q(supervised_at__isnull=False),
        _OPEN_SQL + " AND supervised_at IS NOT NULL",
    ),
)


@dataclass
class ScanReport:
    fired: dict[str, int] = field(default_factory=lambda: {lv.key: 0 for lv in LEVELS})
    skipped: int = 0  # 催办 whose deadline had already passed: the 督办 speaks instead
    batches: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.fired.values())


def due_claim(level: Level, *, now: datetime, size: int) -> Any:
    """The claim query: due, unfired rows of one level, oldest first, through the level's partial index."""
    due = Assignment.objects.filter(level.scope, **{f"{level.due}__lte": now, f"{level.marker}__isnull": True})
    return due.order_by(level.due, "id").select_for_update(skip_locked=True).values_list("id", flat=True)[:size]


def _flip(level: Level, ids: list[int], now: datetime) -> list[int]:
    """The guarded update: returns only the rows this scanner flipped."""
    table = Assignment._meta.db_table
    marks = ", ".join(["%s"] * len(ids))
    sql = (
        f"UPDATE {table} SET {level.marker} = %s "  # noqa: S608 - identifiers are constants above
        f"WHERE id IN ({marks}) AND {level.marker} IS NULL AND {level.due} <= %s AND {level.scope_sql} "
        "RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, *ids, now, *level.scope_params])
        return [row[0] for row in cursor.fetchall()]


def _batch(level: Level, *, now: datetime, size: int, body: str, report: ScanReport, fanout: Fanout) -> int:
    """Claim, flip and act on up to `size` due rows of one level; returns how many were claimed."""
    actor = Actor.scheduler()
    with transaction.atomic():
        ids = list(due_claim(level, now=now, size=size))
        if not ids:
            return 0
        fired = _flip(level, ids, now)
        rows = Assignment.objects.filter(pk__in=fired).select_related("ticket", "unit").order_by("id")
        recipients: dict[int, list[dict[str, str]]] = {}
        built: list[tuple[Assignment, Supervision]] = []
        for assignment in rows:
            deadline = assignment.sign_due_at if level.clock == "sign" else assignment.reply_due_at
            if level.key == "warn" and (deadline is None or deadline <= now):
                report.skipped += 1
                continue
            if assignment.unit_id not in recipients:
                recipients[assignment.unit_id] = supervision.unit_recipients(assignment.unit)
            built.append(
                (
                    assignment,
                    supervision.supervision_build(
                        ticket=assignment.ticket,
                        level=level.level,
                        body=body,
                        actor=actor,
                        assignment=assignment,
                        due_at=deadline,
                        clock=level.clock,
                        now=now,
                        recipients=recipients[assignment.unit_id],
                    ),
                )
            )
        notices_ = Supervision.objects.bulk_create([s for _, s in built])
        events = TicketEvent.objects.bulk_create(
            [
                TicketEvent(
                    ticket=a.ticket,
                    assignment=a,
                    actor_kind=ActorKind.SCHEDULER,
                    action=level.action,
                    reason=s.text,
                    data={**supervision.supervision_event_data(s), "actor_label": actor.label},
                )
                for a, s in built
            ]
        )
        report.fired[level.key] += len(built)
        report.batches += 1
        supervision_ids = [s.pk for s in notices_]
        event_ids = [e.pk for e in events]
        if built:
            transaction.on_commit(lambda: fanout(supervision_ids, event_ids), robust=True)
    return len(ids)


def deadlines_scan(
    *,
    now: datetime | None = None,
    batch_size: int = 500,
    max_batches: int = 200,
    fanout: Fanout | None = None,
) -> ScanReport:
    """One tick of 统一督办: every level, in batches, until nothing is due (or `max_batches` per level).

    `fanout` receives each committed batch's supervision and event ids (live push + SMS); the
    default runs it inline, the Celery task queues it for a worker.
    """
    started = time.perf_counter()
    now = now or timezone.now()
    fanout = fanout or supervision.supervisions_fanout
    templates = notices.notice_templates()
    report = ScanReport()
    for level in LEVELS:
        for _ in range(max_batches):
            claimed = _batch(level, now=now, size=batch_size, body=templates[level.level], report=report, fanout=fanout)
            if claimed < batch_size:
                break
    report.seconds = time.perf_counter() - started
    if report.total or report.skipped:
        log.info("deadline scan: %s fired, %s skipped in %.3fs", report.fired, report.skipped, report.seconds)
    return report
