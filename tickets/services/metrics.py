"""Unit scorecards kept up to date from the workflow events (§6).

`metrics_apply_event` runs inside the transaction that records the event (called from
`events.event_record`), so a rolled-back operation never counts. Each event yields a few facts
(unit, counter, +n), derived only from the event and the earlier events of the same ticket; the
rebuild command replays the same function over the history, so both give the same numbers.
Counters are added with one UPSERT per (unit, day) (`INSERT … ON CONFLICT DO UPDATE SET x = x + n`),
which SQLite and PostgreSQL both understand.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

from django.db import connection, transaction
from django.utils import timezone

from tickets.models import COUNTERS, AssignmentRole, TicketEvent, Unit, UnitDayStats, UnitMonthStats

Fact = tuple[int, str, int]  # (unit id, counter, amount)

_SATISFACTION_COUNTER = {"satisfied": "satisfied", "basic": "basically_satisfied", "dissatisfied": "dissatisfied"}


def _centre_id() -> int | None:
    return Unit.objects.filter(kind="centre").order_by("id").values_list("id", flat=True).first()


def _lead_unit_before(event: TicketEvent) -> int | None:
    """The unit leading the ticket when the event happened: the newest top-level lead dispatch before it."""
    return (
        TicketEvent.objects.filter(
            ticket_id=event.ticket_id,
            action="assignment_created",
            id__lt=event.id,
            assignment__role=AssignmentRole.LEAD,
            assignment__parent__isnull=True,
        )
        .order_by("-id")
        .values_list("assignment__unit_id", flat=True)
        .first()
    )


def _earlier(event: TicketEvent, *actions: str) -> bool:
    return TicketEvent.objects.filter(ticket_id=event.ticket_id, id__lt=event.id, action__in=actions).exists()


def event_facts(event: TicketEvent) -> list[Fact]:
    """What one event adds to the scorecards."""
    action, data = event.action, event.data or {}
    unit_id = event.assignment.unit_id if event.assignment else None
    if action == "assignment_created" and unit_id:
        return [(unit_id, "dispatched", 1)]
    if action == "sign" and unit_id:
        return [(unit_id, "signed_on_time", 1)] if data.get("on_time") else []
    if action == "reply" and unit_id:
        return [(unit_id, "due", 1)] + ([(unit_id, "replied_on_time", 1)] if data.get("on_time") else [])
    if action == "approve_return" and unit_id:
        return [(unit_id, "returns_approved", 1)]
    if action in ("created", "complete_draft") and event.to_state == "registered":
        centre = _centre_id()
        return [(centre, "accepted", 1)] if centre else []
    if action == "answer_directly":
        centre = _centre_id()
        return [(centre, "answered_directly", 1)] if centre else []
    if action not in ("close", "reopen", "rated"):
        return []
    lead = _lead_unit_before(event)
    if lead is None:
        return []
    if action == "reopen":
        return [(lead, "reopened", 1)]
    if action == "close":
        facts: list[Fact] = [(lead, "closed", 1)]
        if not _earlier(event, "reopen", "approve_return"):
            facts.append((lead, "closed_first_time", 1))
        return facts
    facts = [(lead, "valid_callbacks", 1)]  # rated: every recorded rating is a valid feedback
    if data.get("contacted"):
        facts.append((lead, "contacted", 1))
    if data.get("solved"):
        facts.append((lead, "solved", 1))
    counter = _SATISFACTION_COUNTER.get(str(data.get("satisfaction")))
    if counter:
        facts.append((lead, counter, 1))
    return facts


def _upsert(rows: dict[tuple[int, date], Counter[str]]) -> None:
    """Add to the day rows and to their month rows."""
    months: dict[tuple[int, date], Counter[str]] = defaultdict(Counter)
    for (unit_id, day), counts in rows.items():
        months[(unit_id, day.replace(day=1))].update(counts)
    _upsert_into(UnitDayStats._meta.db_table, "day", rows)
    _upsert_into(UnitMonthStats._meta.db_table, "month", months)


def _upsert_into(table: str, key: str, rows: dict[tuple[int, date], Counter[str]]) -> None:
    columns = ", ".join(COUNTERS)
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in COUNTERS)
    placeholders = ", ".join(["%s"] * (2 + len(COUNTERS)))
    # Table and column names are model constants, never input; the values are bound parameters.
    insert = f"INSERT INTO {table} (unit_id, {key}, {columns}) VALUES ({placeholders}) "  # noqa: S608
    sql = insert + f"ON CONFLICT (unit_id, {key}) DO UPDATE SET {updates}"
    params: list[list[int | date]] = [
        [unit_id, day, *(counts.get(c, 0) for c in COUNTERS)] for (unit_id, day), counts in rows.items()
    ]
    if params:
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)


def metrics_apply_event(event: TicketEvent) -> None:
    """Add one event's facts to its unit-day rows (same transaction as the event)."""
    facts = event_facts(event)
    if not facts:
        return
    day = timezone.localdate(event.created_at)
    rows: dict[tuple[int, date], Counter[str]] = defaultdict(Counter)
    for unit_id, counter, amount in facts:
        rows[(unit_id, day)][counter] += amount
    _upsert(rows)


def metrics_apply_events(events: list[TicketEvent]) -> None:
    """Several events of one transaction in one upsert batch; the same sums as one call per event."""
    rows: dict[tuple[int, date], Counter[str]] = defaultdict(Counter)
    for event in events:
        day = timezone.localdate(event.created_at)
        for unit_id, counter, amount in event_facts(event):
            rows[(unit_id, day)][counter] += amount
    if rows:
        _upsert(rows)


@transaction.atomic
def metrics_rebuild(*, batch: int = 5000) -> int:
    """Recompute every unit-day row from the event history. Returns the number of rows written."""
    UnitDayStats.objects.all().delete()
    UnitMonthStats.objects.all().delete()
    rows: dict[tuple[int, date], Counter[str]] = defaultdict(Counter)
    for event in TicketEvent.objects.select_related("assignment").order_by("id").iterator(chunk_size=batch):
        day = timezone.localdate(event.created_at)
        for unit_id, counter, amount in event_facts(event):
            rows[(unit_id, day)][counter] += amount
    _upsert(rows)
    return len(rows)
