"""Unit scorecards kept up to date from the workflow events (§6).

`metrics_apply_event` runs inside the transaction that records the event (called from
`events.event_record`), so a rolled-back operation never counts. Each event yields a few facts
(unit, counter, +n), derived only from the event and the earlier events of the same ticket; the
rebuild command replays the same function over the history, so both give the same numbers.
Counters are added with one UPSERT per (unit, day) (`INSERT … ON CONFLICT DO UPDATE SET x = x + n`),
which SQLite and PostgreSQL both understand. The rules themselves (which counter, which unit,
which day) live in `metrics_rules`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date

from django.db import connection, transaction

from tickets.core.models import TicketEvent
from tickets.metrics.models import COUNTERS, UnitDayStats, UnitMonthStats
from tickets.metrics.services.rules import Fact, due_history, event_facts, is_due_event, led_history

__all__ = ["Fact", "event_facts", "metrics_apply_event", "metrics_apply_events", "metrics_rebuild"]


def _upsert(rows: dict[tuple[int, date], Counter[str]]) -> None:
    """Add to the day rows and to their month rows."""
    months: dict[tuple[int, date], Counter[str]] = defaultdict(Counter)
    for (unit_id, day), counts in rows.items():
        months[(unit_id, day.replace(day=1))].update(counts)
    _upsert_into(UnitDayStats._meta.db_table, "day", rows)
    _upsert_into(UnitMonthStats._meta.db_table, "month", months)


_CHUNK = 200  # rows per statement: 200 × 21 parameters stays far below SQLite's limit


def _upsert_into(table: str, key: str, rows: dict[tuple[int, date], Counter[str]]) -> None:
    columns = ", ".join(COUNTERS)
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in COUNTERS)
    row_marks = "(" + ", ".join(["%s"] * (2 + len(COUNTERS))) + ")"
    # Table and column names are model constants, never input; the values are bound parameters.
    # A retraction (a negative amount) always meets the row holding the count it withdraws; it is a
    # plain UPDATE, because SQLite checks the proposed row (-1 < 0) before it sees the conflict.
    retract = f"UPDATE {table} SET {', '.join(f'{c} = {c} + %s' for c in COUNTERS)} "  # noqa: S608
    retract += f"WHERE unit_id = %s AND {key} = %s"
    params: list[list[int | date]] = []
    retractions: list[list[int | date]] = []
    for (unit_id, day), counts in rows.items():
        values = [counts.get(c, 0) for c in COUNTERS]
        if min(values) < 0:
            retractions.append([*values, unit_id, day])
        else:
            params.append([unit_id, day, *values])
    with connection.cursor() as cursor:
        # Multi-row statements: a scanner tick touches hundreds of unit-days; one round trip per chunk.
        for start in range(0, len(params), _CHUNK):
            chunk = params[start : start + _CHUNK]
            insert = f"INSERT INTO {table} (unit_id, {key}, {columns}) VALUES "  # noqa: S608
            sql = (
                insert + ", ".join([row_marks] * len(chunk)) + f" ON CONFLICT (unit_id, {key}) DO UPDATE SET {updates}"
            )
            cursor.execute(sql, [value for row in chunk for value in row])
        if retractions:
            cursor.executemany(retract, retractions)


def _rows(facts: Iterable[Fact]) -> dict[tuple[int, date], Counter[str]]:
    rows: dict[tuple[int, date], Counter[str]] = defaultdict(Counter)
    for unit_id, counter, amount, day in facts:
        rows[(unit_id, day)][counter] += amount
    return rows


def metrics_apply_event(event: TicketEvent) -> None:
    """Add one event's facts to its unit-day rows (same transaction as the event)."""
    facts = event_facts(event)
    if facts:
        _upsert(_rows(facts))


def metrics_apply_events(events: Iterable[TicketEvent]) -> None:
    """The same for a batch of events written together (e.g. a scanner tick), in id order, one UPSERT.

    The rules read earlier events, so the batch must already be in the database (same transaction).
    """
    batch = sorted(events, key=lambda e: e.id)
    if len(batch) == 1:  # the common case, one event per operation: no batched history read
        metrics_apply_event(batch[0])
        return
    # One query for every due history the batch needs (a scanner tick: hundreds of 督办), not one each.
    history = due_history({int(e.assignment_id) for e in batch if e.assignment_id and is_due_event(e)})
    created = [e.ticket_id for e in batch if e.action == "assignment_created"]
    led = led_history(created) if len(created) > 1 else None  # the routing worker's batch: one query
    facts = [fact for event in batch for fact in event_facts(event, history=history, led=led)]
    if facts:
        _upsert(_rows(facts))


@transaction.atomic
def metrics_rebuild(*, batch: int = 5000) -> int:
    """Recompute every unit-day row from the event history. Returns the number of rows written."""
    UnitDayStats.objects.all().delete()
    UnitMonthStats.objects.all().delete()
    rows: dict[tuple[int, date], Counter[str]] = defaultdict(Counter)
    events = TicketEvent.objects.select_related("assignment").order_by("id").iterator(chunk_size=batch)
    for event in events:
        for unit_id, counter, amount, day in event_facts(event):
            rows[(unit_id, day)][counter] += amount
    _upsert(rows)
    return len(rows)
