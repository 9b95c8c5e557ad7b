"""Scorecard and export benchmark on PostgreSQL.

Run:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_rating_bench \
      .venv/bin/python bench/metrics/run.py --units 1000 --tickets 10000000 --export-rows 1000000

With --seeded, both parts run on a database filled by `manage.py seed_bulk` instead (real tickets
with their history and the counters derived from it): see `seeded_run`.

1. Scorecards. The per-unit-day counter rows of a 10M-ticket year are generated directly with COPY
   (units × 365 days, counters drawn so that `dispatched` sums to --tickets); the tickets themselves
   are not generated for this part. Times GET-equivalent `unit_scorecards` for month and year over
   all units (median of 15), next to a baseline: one `SELECT count(*)` over the same rows.
2. Export. COPYs --export-rows tickets and streams the CSV export through the real view as a
   supervisor; peak RSS (ru_maxrss) is read after 10% of the rows and at the end: flat memory means
   both are about the same.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from rest_framework.test import force_authenticate  # noqa: E402

from tickets.core.models import Ticket  # noqa: E402
from tickets.metrics.models import COUNTERS, UnitDayStats, UnitMonthStats  # noqa: E402
from tickets.metrics.selectors import unit_scorecards  # noqa: E402
from tickets.org.models import Unit, User  # noqa: E402


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ensure_units(n: int) -> list[int]:
    root = Unit.objects.filter(kind="centre").first() or Unit.objects.create(code="centre", name="中心", kind="centre")
    have = list(Unit.objects.filter(code__startswith="b-").values_list("id", flat=True))
    kinds = ["department", "district", "street", "utility"]
    for i in range(len(have), n):
        u = Unit(code=f"b-{i}", name=f"单位{i}", kind=kinds[i % 4], parent=root)
        u.save()
        have.append(u.id)
    return have


def copy_stats(unit_ids: list[int], tickets: int, year: int) -> None:
    UnitDayStats.objects.all().delete()
    UnitMonthStats.objects.all().delete()
    days = [date(year, 1, 1) + timedelta(days=d) for d in range(365)]
    per_row = tickets / (len(unit_ids) * len(days))
    rng = random.Random(7)
    buf = io.StringIO()
    for unit_id in unit_ids:
        for day in days:
            d = max(0, int(rng.gauss(per_row, per_row / 4)))
            closed = int(d * 0.95)
            valid = int(closed * 0.6)
            sat = int(valid * 0.7)
            basic = int(valid * 0.2)
            values = {
                "dispatched": d, "signed_on_time": int(d * 0.97), "due": closed, "replied_on_time": int(closed * 0.93),
                "returns_approved": d // 30, "reopened": closed // 40, "closed": closed,
                "closed_first_time": int(closed * 0.9), "answered_directly": 0, "accepted": d, "repeat_calls": 0,
                "valid_callbacks": valid, "contacted": int(valid * 0.95), "solved": int(valid * 0.8),
                "satisfied": sat, "basically_satisfied": basic, "dissatisfied": valid - sat - basic,
                "led": d, "ratings": int(valid * 1.2),
            }  # fmt: skip
            buf.write("\t".join([str(unit_id), day.isoformat(), *(str(values[c]) for c in COUNTERS)]) + "\n")
    buf.seek(0)
    with connection.cursor() as cur:
        _copy3(cur, buf)
        # The month rows the service keeps alongside, derived here in one statement.
        sums = ", ".join(f"sum({c})" for c in COUNTERS)
        # Table and column names are constants of this script.
        into = f"INSERT INTO tickets_unitmonthstats (unit_id, month, {', '.join(COUNTERS)}) "
        select = f"SELECT unit_id, date_trunc('month', day)::date, {sums} FROM tickets_unitdaystats GROUP BY 1, 2"  # noqa: S608
        cur.execute(into + select)
        cur.execute("ANALYZE tickets_unitdaystats")
        cur.execute("ANALYZE tickets_unitmonthstats")


def _copy3(cur, buf: io.StringIO) -> None:  # psycopg 3
    cols = ", ".join(COUNTERS)
    with cur.cursor.copy(f"COPY {UnitDayStats._meta.db_table} (unit_id, day, {cols}) FROM STDIN") as copy:
        copy.write(buf.getvalue())


def timed(fn, runs: int = 15) -> float:
    fn()
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def copy_tickets(n: int) -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM tickets_ticket WHERE external_ref LIKE 'bench-%%'")
        have = cur.fetchone()[0]
        if have >= n:
            return
        cols = (
            "number, channel, kind, urgency, title, text, citizen_name, citizen_phone, citizen_address, confidential,"
            " anonymous, state, outcome, outcome_reason, reopen_count, units_passed, is_problem, is_flagged,"
            " category_source, external_ref, created_at, updated_at"
        )
        with cur.cursor.copy(f"COPY tickets_ticket ({cols}) FROM STDIN") as copy:
            for i in range(have, n):
                copy.write_row((
                    f"B{i:013d}", "phone", "complaint", "normal", "拖欠工资", "公司拖欠三个月工资不发，要求协调解决",
                    "张先生", f"+86138{i % 100000000:08d}", "演示市东湖区新华路1号", i % 10 == 0, False, "closed",
                    "resolved", "", 0, 0, False, False, "human", f"bench-{i}",
                    "2026-06-01T08:00:00+08:00", "2026-06-01T08:00:00+08:00",
                ))  # fmt: skip
        cur.execute("ANALYZE tickets_ticket")


def export_run(rows: int) -> tuple[int, float, float, float]:
    from tickets.metrics.apis.exports import TicketCsvExportApi

    user = User.objects.filter(is_superuser=True).first() or User.objects.create_superuser("bench", password="x")
    request = RequestFactory().get("/api/exports/tickets.csv")
    force_authenticate(request, user=user)
    start = time.perf_counter()
    response = TicketCsvExportApi.as_view()(request)
    lines, size, early = 0, 0, 0.0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += 1
        if lines == rows // 10:
            early = rss_mb()
    return lines - 1, early, rss_mb(), time.perf_counter() - start


def xlsx_run() -> tuple[int, float, float]:
    from tickets.metrics.apis.exports import TicketXlsxExportApi

    user = User.objects.filter(is_superuser=True).first() or User.objects.create_superuser("bench", password="x")
    request = RequestFactory().get("/api/exports/tickets.xlsx")
    force_authenticate(request, user=user)
    start = time.perf_counter()
    response = TicketXlsxExportApi.as_view()(request)
    size = sum(len(chunk) for chunk in response.streaming_content)
    return size, rss_mb(), time.perf_counter() - start


def seeded_run(export_rows: int, skip_export: bool) -> None:
    """Measure on a database filled by `manage.py seed_bulk` (real tickets, events and the counters
    seed_bulk derived from them): the scorecards through GET /api/metrics/units/ and the selector,
    then the CSV export of the newest `export_rows` tickets."""
    from django.conf import settings
    from django.test import Client

    settings.ALLOWED_HOSTS = ["testserver"]
    tickets = Ticket.objects.count()
    units = UnitDayStats.objects.values("unit_id").distinct().count()
    print(f"seeded database: {tickets:,} tickets; {UnitDayStats.objects.count():,} day rows, "
          f"{UnitMonthStats.objects.count():,} month rows, {units} units with counters")  # fmt: skip
    admin = User.objects.filter(role="supervisor").order_by("id").first()
    assert admin is not None, "run seed_demo and seed_bulk first"
    client = Client()
    client.force_login(admin)
    today = date.today()
    with connection.cursor() as cur:
        baseline = timed(lambda: cur.execute("SELECT count(*) FROM tickets_unitdaystats") or cur.fetchone())
    for period in ("month", "year"):
        url = f"/api/metrics/units/?period={period}&date={today:%Y-%m-%d}"
        response = client.get(url)
        assert response.status_code == 200, response.content[:300]
        samples = []
        for _ in range(15):
            t = time.perf_counter()
            client.get(url)
            samples.append((time.perf_counter() - t) * 1000)
        selector = timed(lambda period=period: unit_scorecards(user=admin, period=period, day=today))
        print(f"{period} scorecards, all units, GET {url}: median {statistics.median(samples):.1f} ms, "
              f"max {max(samples):.1f} ms over 15; selector alone {selector:.1f} ms; "
              f"baseline count(*) of day rows {baseline:.1f} ms")  # fmt: skip
    if skip_export:
        return
    before = rss_mb()
    rows, early, peak, seconds = export_run(export_rows)
    print(f"CSV export of the newest tickets: {rows:,} rows in {seconds:.1f}s; peak RSS before {before:.0f} MB, "
          f"after 10% {early:.0f} MB, at end {peak:.0f} MB")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--tickets", type=int, default=10_000_000)
    parser.add_argument("--export-rows", type=int, default=1_000_000)
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument("--xlsx-only", action="store_true", help="only stream the XLSX export of the COPYed tickets")
    parser.add_argument(
        "--seeded", action="store_true", help="measure the database `manage.py seed_bulk` filled (no synthetic rows)"
    )
    args = parser.parse_args()
    assert connection.vendor == "postgresql", "run on PostgreSQL (DATABASE_URL)"
    if args.seeded:
        seeded_run(args.export_rows, args.skip_export)
        return
    call_command("migrate", verbosity=0)
    if args.xlsx_only:
        copy_tickets(args.export_rows)
        before = rss_mb()
        size, peak, seconds = xlsx_run()
        print(f"XLSX export: {size / 1e6:.0f} MB in {seconds:.1f}s; peak RSS before {before:.0f} MB, end {peak:.0f} MB")
        return
    unit_ids = ensure_units(args.units)
    t = time.perf_counter()
    copy_stats(unit_ids, args.tickets, 2026)
    print(
        f"stats rows: {UnitDayStats.objects.count():,} day / {UnitMonthStats.objects.count():,} month "
        f"for {args.tickets:,} tickets, COPY {time.perf_counter() - t:.1f}s"
    )
    admin = User.objects.filter(is_superuser=True).first() or User.objects.create_superuser("bench", password="x")
    with connection.cursor() as cur:
        baseline = timed(lambda: cur.execute("SELECT count(*) FROM tickets_unitdaystats") or cur.fetchone())
    month = timed(lambda: unit_scorecards(user=admin, period="month", day=date(2026, 11, 1)))
    year = timed(lambda: unit_scorecards(user=admin, period="year", day=date(2026, 11, 1)))
    print(f"scorecards for {len(unit_ids):,} units: month {month:.1f} ms, year {year:.1f} ms (median of 15); "
          f"baseline count(*) over all rows {baseline:.1f} ms")  # fmt: skip
    if args.skip_export:
        return
    t = time.perf_counter()
    copy_tickets(args.export_rows)
    print(f"tickets COPY: {time.perf_counter() - t:.1f}s")
    before = rss_mb()
    rows, early, peak, seconds = export_run(args.export_rows)
    print(f"CSV export: {rows:,} rows in {seconds:.1f}s; peak RSS before {before:.0f} MB, "
          f"after 10% {early:.0f} MB, at end {peak:.0f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
