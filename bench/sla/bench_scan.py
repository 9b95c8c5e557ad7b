"""Benchmark: one 统一督办 scanner tick over 1,000,000 open assignments in PostgreSQL.

    python bench/sla/bench_scan.py [--rows 1000000] [--due 2000] [--ticks 5]
        [--database-url postgres://postgres@127.0.0.1:5432/hotline_bench_sla]

Creates and migrates a dedicated database (never the development one), fills it once with
COPY (tickets + open assignments spread over ten days of deadlines), then for each tick arms
`--due` random assignments (0.2 % by default: sign overdue, 催办, 督办 and 通报 mixed) and times
`deadlines_scan`. Prints the median tick, the live-push/SMS fan-out a worker does after it,
the claim query with and without its partial index (the baseline, same run), and the
EXPLAIN (ANALYZE, BUFFERS) plan of the claim query.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=2_000)
    parser.add_argument("--ticks", type=int, default=5)
    parser.add_argument(
        "--metrics-ab",
        action="store_true",
        help="only time ticks, alternating with and without the scorecard facts (baseline: same run, same data)",
    )
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/hotline_bench_sla")
    return parser.parse_args()


ARGS = _args()
os.environ["DATABASE_URL"] = ARGS.database_url
os.environ.pop("REDIS_URL", None)  # in-memory channel layer: the fan-out is measured without a network
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")
os.environ.setdefault("LOG_LEVEL", "ERROR")


def _create_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


_create_database(ARGS.database_url)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from tickets.core.models import Assignment, TicketEvent  # noqa: E402
from tickets.demo import seed  # noqa: E402
from tickets.org.models import Unit  # noqa: E402
from tickets.sla.models import SlaPolicy  # noqa: E402
from tickets.sla.services import policy as sla_policy  # noqa: E402
from tickets.sla.services.calendar import calendar_seed_from_package  # noqa: E402
from tickets.supervision.models import Supervision  # noqa: E402
from tickets.supervision.services import scanner, supervision  # noqa: E402

NOW = datetime(2025, 11, 12, 1, 0, tzinfo=UTC)  # a Wednesday, 09:00 in Beijing


def fill(rows: int) -> None:
    """COPY `rows` tickets with one open assignment each, deadlines spread over ten days."""
    have = Assignment.objects.count()
    if have >= rows:
        print(f"database holds {have:,} assignments already")
        return
    units = list(Unit.objects.exclude(kind="centre").values_list("id", "path"))
    policy = SlaPolicy.objects.filter(is_current=True, kind="help", urgency="normal").first()
    start = (max(Assignment.objects.values_list("ticket_id", flat=True).order_by("-ticket_id")[:1], default=0)) + 1
    need = rows - have
    rnd = random.Random(12345)
    t0 = time.perf_counter()
    raw = connection.connection
    ticket_cols = (
        "id, number, channel, kind, urgency, title, text, citizen_name, citizen_phone, citizen_address, confidential,"
        " anonymous, state, outcome, outcome_reason, reopen_count, units_passed, is_problem, is_flagged, external_ref,"
        " created_at, updated_at, lead_unit_id, due_at, category_source"
    )
    asg_cols = (
        "ticket_id, unit_id, unit_path, role, state, state_before_request, round, dispatched_at, sign_due_at,"
        " reply_due_at, signed_at, reply_text, return_reason, return_legal_basis, extension_reason, extension_count,"
        " note, sla_policy_id, warn_at, supervise_at, notice_at, paused_seconds, sign_warned_at"
    )
    plan = []
    for i in range(start, start + need):
        unit_id, path = units[i % len(units)]
        reply_due = NOW + timedelta(minutes=rnd.randint(2 * 24 * 60, 12 * 24 * 60))  # none due yet
        dispatched = reply_due - timedelta(days=7)
        plan.append((i, unit_id, path, dispatched, reply_due))
    with transaction.atomic(), raw.cursor() as cur:
        with cur.copy(f"COPY tickets_ticket ({ticket_cols}) FROM STDIN") as copy:
            for i, unit_id, _, dispatched, reply_due in plan:
                copy.write_row(
                    (i, f"B{i:015d}", "phone", "help", "normal", "路灯不亮", "小区路灯不亮，请尽快维修", "", "", "",
                     False, False, "in_progress", "", "", 0, 1, False, False, "", dispatched, dispatched, unit_id,
                     reply_due, "")
                )  # fmt: skip
        with cur.copy(f"COPY tickets_assignment ({asg_cols}) FROM STDIN") as copy:
            for i, unit_id, path, dispatched, reply_due in plan:
                copy.write_row(
                    (i, unit_id, path, "lead", "signed", "", 1, dispatched, dispatched + timedelta(hours=24), reply_due,
                     dispatched + timedelta(hours=1), "", "", "", "", 0, "", policy.pk if policy else None,
                     reply_due - timedelta(days=1), reply_due + timedelta(days=1), reply_due + timedelta(days=8), 0,
                     None)
                )  # fmt: skip
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('tickets_ticket', 'id'), (SELECT max(id) FROM tickets_ticket))"
        )
    with raw.cursor() as cur:
        cur.execute("ANALYZE tickets_ticket")
        cur.execute("ANALYZE tickets_assignment")
    print(f"COPY {need:,} tickets + {need:,} assignments: {time.perf_counter() - t0:.1f}s")


def arm(due: int, rnd: random.Random) -> None:
    """Make `due` random open assignments due now: 40 % 催办, 30 % 督办, 10 % 通报, 20 % 签收超时."""
    top = Assignment.objects.order_by("-id").values_list("id", flat=True)[0]
    ids = rnd.sample(range(1, top + 1), due)
    cut = [int(due * f) for f in (0.4, 0.7, 0.8)]
    warn, supervise, notice, sign = ids[: cut[0]], ids[cut[0] : cut[1]], ids[cut[1] : cut[2]], ids[cut[2] :]
    past = NOW - timedelta(minutes=1)
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE tickets_assignment SET state='signed', warn_at=%s, reply_due_at=%s, warned_at=NULL "
            "WHERE id = ANY(%s)",
            [past, NOW + timedelta(hours=20), warn],
        )
        cur.execute(
            "UPDATE tickets_assignment SET state='signed', supervise_at=%s, reply_due_at=%s, supervised_at=NULL "
            "WHERE id = ANY(%s)",
            [past, NOW - timedelta(hours=9), supervise],
        )
        cur.execute(
            "UPDATE tickets_assignment SET state='signed', notice_at=%s, supervised_at=%s, noticed_at=NULL "
            "WHERE id = ANY(%s)",
            [past, NOW - timedelta(days=7), notice],
        )
        cur.execute(
            "UPDATE tickets_assignment SET state='pending_sign', sign_due_at=%s, sign_warned_at=NULL "
            "WHERE id = ANY(%s)",
            [past, sign],
        )


def claim_timing(seq_scan: bool) -> float:
    """The 催办 level's claim query alone (ms), with or without index scans allowed."""
    level = scanner.LEVELS[1]
    with transaction.atomic(), connection.cursor() as cur:
        sql, params = scanner.due_claim(level, now=NOW, size=500).query.sql_with_params()
        if seq_scan:
            cur.execute("SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off")
        t0 = time.perf_counter()
        cur.execute(sql, params)
        cur.fetchall()
        elapsed = (time.perf_counter() - t0) * 1000
        transaction.set_rollback(True)
    return elapsed


def explain() -> str:
    level = scanner.LEVELS[1]
    with transaction.atomic(), connection.cursor() as cur:
        sql, params = scanner.due_claim(level, now=NOW, size=500).query.sql_with_params()
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        plan = "\n".join(row[0] for row in cur.fetchall())
        transaction.set_rollback(True)
    return plan


def metrics_ab(rnd: random.Random) -> None:
    """Ticks with the scorecard facts (督办 past the deadline → due and late) vs without, alternating."""
    real = scanner.metrics_apply_events
    with_facts, without = [], []
    scanner.deadlines_scan(now=NOW, fanout=lambda s, e: None)  # nothing left armed from an earlier run
    for i in range(ARGS.ticks * 2):
        arm(ARGS.due, rnd)
        on = i % 2 == 0
        scanner.metrics_apply_events = real if on else (lambda events: None)  # type: ignore[assignment]
        t0 = time.perf_counter()
        scanner.deadlines_scan(now=NOW, fanout=lambda s, e: None)
        (with_facts if on else without).append(time.perf_counter() - t0)
    scanner.metrics_apply_events = real
    a, b = statistics.median(with_facts) * 1000, statistics.median(without) * 1000
    print(f"tick with scorecard facts, median of {len(with_facts)}: {a:.0f} ms "
          f"(all: {', '.join(f'{t * 1000:.0f}' for t in with_facts)})")  # fmt: skip
    print(f"tick without (baseline, same run), median of {len(without)}: {b:.0f} ms "
          f"(all: {', '.join(f'{t * 1000:.0f}' for t in without)}); ratio {a / b:.2f}x")  # fmt: skip


def main() -> None:
    call_command("migrate", verbosity=0)
    sla_policy.profile_ensure_default()
    seed.seed_units()
    calendar_seed_from_package(years=[2025, 2026])
    fill(ARGS.rows)
    rnd = random.Random(2025)
    open_rows = Assignment.objects.filter(ended_at__isnull=True).count()
    print(f"open assignments: {open_rows:,}; armed due per tick: {ARGS.due:,} ({ARGS.due / open_rows:.2%})")
    if ARGS.metrics_ab:
        metrics_ab(rnd)
        return
    ticks, fanouts, fired = [], [], []
    for _ in range(ARGS.ticks):
        arm(ARGS.due, rnd)
        collected: list[tuple[list[int], list[int]]] = []
        t0 = time.perf_counter()
        report = scanner.deadlines_scan(now=NOW, fanout=lambda s, e, c=collected: c.append((s, e)))
        ticks.append(time.perf_counter() - t0)
        fired.append(report.total + report.skipped)
        t0 = time.perf_counter()
        for s, e in collected:
            supervision.supervisions_fanout(s, e)
        fanouts.append(time.perf_counter() - t0)
    print(f"processed per tick: {fired}")
    all_ticks = ", ".join(f"{t * 1000:.0f}" for t in ticks)
    print(f"tick (find + guarded update + Supervision/TicketEvent rows), median of {ARGS.ticks}: "
          f"{statistics.median(ticks) * 1000:.0f} ms  (all: {all_ticks})")  # fmt: skip
    fanout_ms = statistics.median(fanouts) * 1000
    print(f"fan-out after commit (live push + SMS hand-off; a worker's job), median: {fanout_ms:.0f} ms")
    arm(ARGS.due, rnd)
    indexed = statistics.median(claim_timing(False) for _ in range(5))
    seq = statistics.median(claim_timing(True) for _ in range(3))
    print(f"claim query (催办, batch 500): partial index {indexed:.1f} ms vs sequential scan {seq:.1f} ms "
          f"(baseline, same run): {seq / indexed:.0f}x")  # fmt: skip
    print("EXPLAIN (ANALYZE, BUFFERS) of the claim query:")
    print(explain())
    scanner.deadlines_scan(now=NOW, fanout=lambda s, e: None)  # leave nothing armed
    print(f"supervisions stored: {Supervision.objects.count():,}; events: {TicketEvent.objects.count():,}")


if __name__ == "__main__":
    main()
