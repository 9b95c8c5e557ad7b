"""Duplicate lookup latency with 1,000,000 stored tickets on PostgreSQL.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_bench_kb \\
        PYTHONPATH=. .venv/bin/python bench/duplicates/lookup_bench.py [--rows 1000000] [--queries 500]

Builds (once; reused while the row count matches) a dedicated database with the real schema:
tickets spread over a year, texts derived at run time from the real re-posted messages in
/work/shared/data/teddy2020c_unlabeled (100,000 edited variants: a window of the message with
random deletions, so near-duplicates are as common as in a real centre), 10 districts' streets
as jurisdictions, a caller pool where some numbers call again. Rows go in with COPY, indexes are
built afterwards. Then it times `duplicates.duplicate_candidates` (both lookups: same caller in
30 days and LSH bands in the 14-day window, scoring included) for random new calls, and, as the
baseline, a scan that scores every fingerprint in the same window.
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
DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hotline_bench_kb")
os.environ["DATABASE_URL"] = DB_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from bench.duplicates.pairs import load_messages  # noqa: E402
from tickets import textsearch  # noqa: E402
from tickets.core.models import Ticket  # noqa: E402
from tickets.duplicates.services import duplicates  # noqa: E402
from tickets.org.models import Unit  # noqa: E402

START = datetime(2025, 1, 1, tzinfo=UTC)
VARIANTS = 100_000


def ensure_database() -> None:
    base, _, name = DB_URL.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    call_command("migrate", verbosity=0)
    if not Unit.objects.exists():
        from tickets.demo import seed

        seed.seed_units()


def mutate(text: str, rng: random.Random) -> str:
    """A re-post: a window of the message with a few characters dropped."""
    size = rng.randint(60, 220)
    start = rng.randint(0, max(0, len(text) - size))
    chars = list(text[start : start + size])
    for _ in range(rng.randint(0, 6)):
        if len(chars) > 10:
            chars.pop(rng.randrange(len(chars)))
    return "".join(chars)


def variants(rng: random.Random) -> list[tuple[str, bytes, int, list[int]]]:
    messages, _ = load_messages()
    out = []
    for _ in range(VARIANTS):
        text = mutate(rng.choice(messages).text, rng)
        sig, count = textsearch.minhash_signature(text)
        out.append((text, textsearch.signature_bytes(sig), count, textsearch.band_keys(sig)))
    return out


def load(rows: int) -> None:
    rng = random.Random(12345)
    t0 = time.perf_counter()
    pool = variants(rng)
    print(f"{VARIANTS:,} text variants with signatures in {time.perf_counter() - t0:.0f}s")
    streets = list(Unit.objects.filter(kind="street").values_list("pk", flat=True))
    phones = [f"+86139{n:08d}" for n in range(rows // 3)]
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("TRUNCATE tickets_ticketband, tickets_ticketfingerprint, tickets_ticket CASCADE")
        cur.execute("DROP INDEX IF EXISTS band_key_time_ticket")
        raw = cur.connection
        fields = (
            "id, number, channel, kind, urgency, title, text, citizen_name, citizen_phone, citizen_address,"
            " confidential, anonymous, jurisdiction_id, state, outcome, outcome_reason, reopen_count,"
            " units_passed, is_problem, is_flagged, external_ref, created_at, updated_at"
        )
        span = 365 * 86400
        with (
            raw.cursor() as c,
            c.copy(f"COPY tickets_ticket ({fields}) FROM STDIN") as copy,
        ):
            for i in range(1, rows + 1):
                text, *_ = pool[i % VARIANTS]
                at = START + timedelta(seconds=span * i / rows)
                copy.write_row(
                    (i, f"B{i:012d}", "phone", "help", "normal", text[:30], text, "", rng.choice(phones), "",
                     False, False, rng.choice(streets), "closed", "", "", 0, 0, False, False, "", at, at)
                )  # fmt: skip
        with raw.cursor() as c, c.copy("COPY tickets_ticketfingerprint FROM STDIN") as copy:
            for i in range(1, rows + 1):
                _, sig, count, _ = pool[i % VARIANTS]
                copy.write_row((i, sig, count, START + timedelta(seconds=span * i / rows)))
        with (
            raw.cursor() as c,
            c.copy("COPY tickets_ticketband (key, created_at, ticket_id) FROM STDIN") as copy,
        ):
            for i in range(1, rows + 1):
                at = START + timedelta(seconds=span * i / rows)
                for key in pool[i % VARIANTS][3]:
                    copy.write_row((key, at, i))
        bands = rows * textsearch.BANDS
        print(f"COPY {rows:,} tickets, fingerprints and {bands:,} band rows: {time.perf_counter() - t0:.0f}s")
        t0 = time.perf_counter()
        cur.execute("SET maintenance_work_mem = '512MB'")
        cur.execute("CREATE INDEX band_key_time_ticket ON tickets_ticketband (key, created_at, ticket_id)")
        cur.execute("SELECT setval(pg_get_serial_sequence('tickets_ticket', 'id'), %s)", [rows])
        cur.execute("VACUUM ANALYZE tickets_ticket")
        cur.execute("VACUUM ANALYZE tickets_ticketband")
        cur.execute("VACUUM ANALYZE tickets_ticketfingerprint")
        print(f"index + vacuum analyze: {time.perf_counter() - t0:.0f}s")


def scan_baseline(text: str, now: datetime) -> int:
    """The obvious alternative: score every fingerprint of the window."""
    sig, _ = textsearch.minhash_signature(text)
    since = now - timedelta(days=duplicates.jurisdiction_window_days())
    hits = 0
    rows = duplicates.TicketFingerprint.objects.filter(created_at__gte=since, created_at__lte=now)
    for raw in rows.values_list("signature", flat=True).iterator(chunk_size=5000):
        if textsearch.signature_similarity(sig, textsearch.signature_from_bytes(raw)) >= 0.2:
            hits += 1
    return hits


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--baseline-queries", type=int, default=10)
    args = parser.parse_args()
    ensure_database()
    if Ticket.objects.count() != args.rows:
        load(args.rows)
    rng = random.Random(99)
    messages, _ = load_messages()
    streets = list(Unit.objects.filter(kind="street"))
    queries = []
    for _ in range(args.queries):
        ticket_id = rng.randint(1, args.rows)
        known = Ticket.objects.filter(pk=ticket_id).values("citizen_phone", "created_at").get()
        now = known["created_at"] + timedelta(days=rng.uniform(0, 10))
        queries.append((mutate(rng.choice(messages).text, rng), known["citizen_phone"], rng.choice(streets), now))
    text, phone, street, now = queries[0]
    duplicates.duplicate_candidates(text=text, phone=phone, jurisdiction=street, now=now)  # warm up
    times, found = [], []
    for text, phone, street, now in queries:
        t0 = time.perf_counter()
        result = duplicates.duplicate_candidates(text=text, phone=phone, jurisdiction=street, now=now)
        times.append((time.perf_counter() - t0) * 1000)
        found.append(len(result))
    base = []
    for text, _, _, now in queries[: args.baseline_queries]:
        t0 = time.perf_counter()
        scan_baseline(text, now)
        base.append((time.perf_counter() - t0) * 1000)
    print(f"\nduplicate lookup over {args.rows:,} tickets ({args.queries} new calls, PostgreSQL)")
    print(f"{'':<28} {'median ms':>10} {'p99 ms':>10}")
    print(f"{'indexed (bands + caller)':<28} {statistics.median(times):>10.2f} {pct(times, 0.99):>10.2f}")
    print(f"{'scan of the 14-day window':<28} {statistics.median(base):>10.2f} {pct(base, 0.99):>10.2f}")
    print(f"median speed-up vs scan: {statistics.median(base) / statistics.median(times):.0f}x;"
          f" candidates per call: median {statistics.median(found):.0f}, max {max(found)}")  # fmt: skip


if __name__ == "__main__":
    main()
