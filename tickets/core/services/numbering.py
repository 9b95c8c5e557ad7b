"""Ticket numbers: YYYYMMDD (local day) + a 6-digit daily sequence, unique under concurrency."""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.utils import timezone

from tickets.core.models import TicketNumberSequence


def ticket_number_next(*, now: datetime | None = None) -> str:
    """Take the next number of the local day.

    One upsert with RETURNING: the row lock it takes serialises concurrent creators on
    PostgreSQL, and SQLite serialises writers anyway, so no two tickets share a number.

    Taken on its own (no transaction open: the intake's case), the statement's commit on
    PostgreSQL does not wait for the write-ahead log to reach the disk (`synchronous_commit` off
    for that one transaction), so the row lock is not held across a disk flush and the intakes
    behind it do not queue on one. Nothing durable is given up: the ticket that uses the number
    commits after it, synchronously, and that flush carries the earlier record with it (the log
    is written in order). A crash can lose only a number no stored ticket carries; it is then
    taken again. Inside a caller's transaction the plain statement is used: that transaction's
    commit must stay synchronous.
    """
    day = timezone.localdate(now or timezone.now())
    table = connection.ops.quote_name(TicketNumberSequence._meta.db_table)
    # The table name comes from the model; the only value is a parameter.
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        rows = "SELECT %s, 1 FROM (SELECT set_config('synchronous_commit', 'off', true)) AS this_commit_only"
    else:
        rows = "VALUES (%s, 1)"
    sql = f"INSERT INTO {table} (day, last) {rows} ON CONFLICT (day) DO UPDATE SET last = {table}.last + 1 RETURNING last"  # noqa: E501
    with connection.cursor() as cursor:
        cursor.execute(sql, [day])
        (last,) = cursor.fetchone()
    return f"{day:%Y%m%d}{last:06d}"
