"""The queue lock: every change of who waits, who is offered whom and who is bridged takes it, in
turn, for the rest of its transaction (a PostgreSQL transaction-level advisory lock).

Without it two bridges whose callers were offered crosswise (Twilio dequeued the head of the
desk's queue for seat A while our offer had named seat B, and the other way round) lock the two
queued calls and the two seats in opposite orders: PostgreSQL's deadlock detector ended one of
them after a second (bench/callcentre). The transactions under the lock are short (a few rows);
SQLite serialises writers anyway."""

from __future__ import annotations

from django.db import connection

QUEUE_LOCK_KEY = 33358  # GB/T 33358: any constant shared by every process of the deployment


def queue_lock() -> None:
    """Inside a transaction: wait for the queue lock; it is released at commit or rollback."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [QUEUE_LOCK_KEY])
