"""Reads at scale: the list and detail APIs over a database filled by `manage.py seed_bulk`.

Run (one database per run; the figures of each run are appended to bench/scale/results.json):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_bulk_1m \
        .venv/bin/python bench/scale/reads.py --label 1M --requests 200

Every request goes through the real API in process: Django's test Client (session login, URL
routing, middleware, DRF permissions, filters, keyset pagination, serializers) against the real
PostgreSQL database, so the figures are server time without the network or an ASGI server.
Measured, each over --requests requests after 10 warm-up requests:
- inbox, first page: a district's staff open GET /api/tickets/ (their scope: tickets assigned to
  the district or any of its streets), default filter, 20 per page;
- inbox, deep page: the same list from a keyset cursor at a random point in the older half;
- street inbox: the same for one street's staff (a narrow scope: few of the tickets match);
- assignment inbox: GET /api/assignments/ (open assignments, nearest deadline first) of the district;
- supervisor list: GET /api/tickets/?overdue=true&unit=<district>&category=<top category>;
- ticket detail: GET /api/tickets/<id>/ (assignments and full history) for random tickets;
- baseline: GET /api/me/ (same stack, one indexed row) — the ratio column divides by its p50.
Wall time includes waiting for a CPU on a shared machine; "Python CPU" is the process time the
request used (Django, DRF, serializers; the PostgreSQL backend's time is not in it); "SQL ms" is
the summed EXPLAIN ANALYZE execution time of the request's SELECTs (one request, after the runs).
EXPLAIN (ANALYZE, BUFFERS) of every SELECT of one request of each kind goes to
bench/scale/notes-<label>.md.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from tickets.core.models import Ticket  # noqa: E402
from tickets.org.models import Category, Unit, User  # noqa: E402

HERE = Path(__file__).resolve().parent


def cursor_before(ticket_id: int) -> str:
    """A DRF CursorPagination cursor for the page that starts just below `ticket_id` (ordering -id)."""
    return base64.b64encode(urlencode({"p": str(ticket_id)}).encode()).decode()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def measure(client: Client, urls: Callable[[], str], n: int) -> dict[str, float]:
    for _ in range(10):
        client.get(urls())
    times, cpu = [], []
    for _ in range(n):
        url = urls()
        began, began_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code} {response.content[:200]!r}")
    return {
        "p50": statistics.median(times),
        "p95": percentile(times, 95),
        "p99": percentile(times, 99),
        "max": max(times),
        "cpu_p50": statistics.median(cpu),
        "n": n,
    }


def explain(client: Client, url: str) -> tuple[str, float]:
    """EXPLAIN (ANALYZE, BUFFERS) of each SELECT one request of `url` runs, and their summed execution time."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    lines = [f"### GET {url} → {response.status_code}, {len(ctx.captured_queries)} queries\n"]
    total = 0.0
    with connection.cursor() as cur:
        for q in ctx.captured_queries:
            sql = q["sql"]
            if not sql.lstrip().upper().startswith("SELECT") or "django_session" in sql:
                continue
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = "\n".join(row[0] for row in cur.fetchall())
            total += float(plan.rsplit("Execution Time: ", 1)[1].split()[0])
            lines.append(f"```sql\n{sql[:1500]}\n```\n```\n{plan}\n```\n")
    return "\n".join(lines), total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--label", required=True, help="size label, e.g. 100k, 1M, 10M")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--district", default="donghu")
    parser.add_argument("--street", default="donghu-xinhua")
    parser.add_argument("--category", default="hjbh", help="top-level category code for the supervisor list")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["testserver"]
    rng = random.Random(args.seed)

    district = Unit.objects.get(code=args.district)
    street = Unit.objects.get(code=args.street)
    category = Category.objects.get(code=args.category)
    low, high = Ticket.objects.order_by("id").values_list("id", flat=True)[:1][0], Ticket.objects.latest("id").id
    total = Ticket.objects.count()

    def client_for(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    district_staff = client_for(User.objects.filter(unit=district, role="unit_staff").order_by("id").first())  # type: ignore[arg-type]
    street_staff = client_for(User.objects.filter(unit=street, role="unit_staff").order_by("id").first())  # type: ignore[arg-type]
    supervisor = client_for(User.objects.filter(role="supervisor").order_by("id").first())  # type: ignore[arg-type]
    middle = (low + high) // 2

    cases: list[tuple[str, Client, Callable[[], str]]] = [
        ("baseline GET /api/me/", supervisor, lambda: "/api/me/"),
        ("inbox first page (district)", district_staff, lambda: "/api/tickets/"),
        (
            "inbox deep keyset page (district)",
            district_staff,
            lambda: f"/api/tickets/?cursor={cursor_before(rng.randint(low, middle))}",
        ),
        ("inbox first page (street)", street_staff, lambda: "/api/tickets/"),
        ("assignment inbox (district)", district_staff, lambda: "/api/assignments/"),
        (
            "supervisor: overdue + district + category",
            supervisor,
            lambda: f"/api/tickets/?overdue=true&unit={district.pk}&category={category.pk}",
        ),
        ("ticket detail with history", supervisor, lambda: f"/api/tickets/{rng.randint(low, high)}/"),
    ]
    results: dict[str, dict[str, float]] = {}
    notes = [f"# EXPLAIN (ANALYZE, BUFFERS) at {args.label} ({total:,} tickets), {date.today()}\n"]
    for name, client, urls in cases:
        results[name] = measure(client, urls, args.requests)
        notes.append(f"## {name}\n")
        text, db_ms = explain(client, urls())
        results[name]["db_ms"] = db_ms
        notes.append(text)
        print(
            f"{name:<45} p50 {results[name]['p50']:7.1f} ms  p95 {results[name]['p95']:7.1f} ms  "
            f"p99 {results[name]['p99']:7.1f} ms",
            flush=True,
        )
    base = results["baseline GET /api/me/"]["p50"]
    (HERE / f"notes-{args.label}.md").write_text("\n".join(notes), encoding="utf-8")
    path = HERE / "results.json"
    saved = json.loads(path.read_text()) if path.exists() else {}
    saved[args.label] = {"tickets": total, "date": str(date.today()), "results": results}
    path.write_text(json.dumps(saved, indent=1, ensure_ascii=False))
    print("\n| query | p50 ms | p95 ms | p99 ms | Python CPU p50 ms | SQL ms (EXPLAIN ANALYZE) | p50 / baseline |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        print(
            f"| {name} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | {r['cpu_p50']:.1f} | {r['db_ms']:.1f} "
            f"| {r['p50'] / base:.1f}× |"
        )


if __name__ == "__main__":
    main()
