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

from tickets.core import privacy
from tickets.core.actors import Actor
from tickets.core.models import ActorKind, Assignment, TicketEvent
from tickets.core.services.rows import rows_insert
from tickets.core.states import AssignmentState
from tickets.live.models import LiveOutbox
from tickets.metrics.services.scorecards import metrics_apply_events
from tickets.org.models import Unit
from tickets.supervision.models import NoticeSmsStatus, Supervision, SupervisionLevel
from tickets.supervision.services import notice_texts, supervision

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


_ROW_FIELDS = (
    "id",
    "ticket_id",
    "unit_id",
    "round",
    "sign_due_at",
    "reply_due_at",
    "ticket__number",
    "ticket__title",
    *(f"ticket__{name}" for name in privacy.CITIZEN_FIELDS),
    "unit__name",
    "unit__code",
)


_SUPERVISION_COLUMNS = (
    "ticket_id",
    "assignment_id",
    "unit_id",
    "level",
    "clock",
    "due_at",
    "text",
    "note",
    "recipients",
    "issued_by_label",
    "sms_status",
    "created_at",
)
_EVENT_COLUMNS = (
    "ticket_id",
    "assignment_id",
    "actor_kind",
    "action",
    "from_state",
    "to_state",
    "reason",
    "data",
    "created_at",
)
_JSON_COLUMNS = frozenset({"recipients", "data"})


def _outbox(event_ids: list[int], written_at: datetime) -> None:
    """The live feed's outbox rows, written with the events (as `event_record` does one by one):
    a committed event is either pushed or still waiting there for `outbox_flush`."""
    rows = [(pk, written_at, 0, "") for pk in event_ids]
    rows_insert(LiveOutbox, ("event_id", "created_at", "attempts", "last_error"), rows, with_ids=False)


def _batch(level: Level, *, now: datetime, size: int, body: str, report: ScanReport, fanout: Fanout) -> int:
    """Claim, flip and act on up to `size` due rows of one level; returns how many were claimed.

    Rows are read and written as plain values, not model instances: a tick may handle thousands.
    """
    label = Actor.scheduler().label
    level_label = SupervisionLevel(level.level).label
    with transaction.atomic():
        ids = list(due_claim(level, now=now, size=size))
        if not ids:
            return 0
        fired = _flip(level, ids, now)
        rows = list(Assignment.objects.filter(pk__in=fired).order_by("id").values(*_ROW_FIELDS))
        units = Unit.objects.in_bulk({row["unit_id"] for row in rows})
        recipients = {pk: supervision.unit_recipients(unit) for pk, unit in units.items()}
        written_at = timezone.now()
        acted: list[tuple[dict[str, Any], datetime | None, str]] = []
        for row in rows:
            deadline = row["sign_due_at"] if level.clock == "sign" else row["reply_due_at"]
            if level.key == "warn" and (deadline is None or deadline <= now):
                report.skipped += 1  # the 督办 will speak for this one
                continue
            text = notice_texts.notice_render(
                body=body,
                level=level.level,
                ticket_number=row["ticket__number"],
                ticket_title=row["ticket__title"],
                unit_name=row["unit__name"],
                due_at=deadline,
                now=now,
                clock=level.clock,
                round_no=row["round"],
            )
            # Addressed to the unit: the title must not quote the citizen's contact (tickets.core.privacy).
            citizen = privacy.CitizenFields(**{name: row[f"ticket__{name}"] for name in privacy.CITIZEN_FIELDS})
            text = privacy.citizen_text(text, citizen, None)
            acted.append((row, deadline, text))
        # Plain rows, not model instances (a tick may write thousands): COPY on PostgreSQL.
        supervision_ids = rows_insert(
            Supervision,
            _SUPERVISION_COLUMNS,
            [
                (row["ticket_id"], row["id"], row["unit_id"], level.level, level.clock, deadline, text, "",
                 recipients[row["unit_id"]], label, NoticeSmsStatus.PENDING.value, written_at)
                for row, deadline, text in acted
            ],
            json_columns=_JSON_COLUMNS,
        )  # fmt: skip
        event_ids = rows_insert(
            TicketEvent,
            _EVENT_COLUMNS,
            [
                (row["ticket_id"], row["id"], ActorKind.SCHEDULER.value, level.action, "", "", text,
                 {"supervision": sid, "level": level.level, "level_label": level_label, "clock": level.clock,
                  "unit": row["unit__code"], "due_at": deadline.isoformat() if deadline else None,
                  "actor_label": label},
                 written_at)
                for (row, deadline, text), sid in zip(acted, supervision_ids, strict=True)
            ],
            json_columns=_JSON_COLUMNS,
        )  # fmt: skip
        _outbox(event_ids, written_at)
        # The scorecards, as event_record does one by one: a 督办 past the reply deadline counts the
        # assignment as due and late (tickets.metrics.services.rules.due_step).
        metrics_apply_events(TicketEvent.objects.filter(pk__in=event_ids).select_related("assignment"))
        report.fired[level.key] += len(acted)
        report.batches += 1
        if acted:
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
    templates = notice_texts.notice_templates()
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
