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
    """
    day = timezone.localdate(now or timezone.now())
    table = connection.ops.quote_name(TicketNumberSequence._meta.db_table)
    with connection.cursor() as cursor:
        # The table name comes from the model; the only value is a parameter.
        sql = f"INSERT INTO {table} (day, last) VALUES (%s, 1) ON CONFLICT (day) DO UPDATE SET last = {table}.last + 1 RETURNING last"  # noqa: S608, E501
        cursor.execute(sql, [day])
        (last,) = cursor.fetchone()
    return f"{day:%Y%m%d}{last:06d}"
