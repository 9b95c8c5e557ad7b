"""The one ticket page (issue 16): server time of GET /tickets/<id>/ for random tickets.

Run against a seeded database (the lead runs it on the 1M-ticket bench database; the page must stay
under 300 ms there):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_bulk_1m \
        .venv/bin/python bench/pages/ticket_page.py --requests 200

Each request goes through the whole page stack in process (Django's test Client: session login,
middleware, the role check, the scoped read, privacy, the access log row, every section of the page,
template rendering), so the figures are server time without the network. Measured for a centre
reader (supervisor: every section, including the duplicate candidates) and for the lead unit's
staff (scoped read, masked contact), over random tickets that have an assignment, after 10
warm-up requests. Also printed: SQL statements per page (one request of each kind) and the
baseline GET /api/me/ for comparison on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from tickets.core.models import Assignment  # noqa: E402
from tickets.org.models import Role, User  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def sample_assignments(n: int) -> list[tuple[int, int]]:
    """(ticket id, unit id) of random assignments, read by id range (no ORDER BY random() on 10M rows)."""
    last = Assignment.objects.order_by("-id").values_list("id", flat=True).first()
    if last is None:
        raise SystemExit("no assignments: seed the database first (manage.py seed_demo / seed_bulk)")
    found: list[tuple[int, int]] = []
    rng = random.Random(16)
    while len(found) < n:
        start = rng.randint(1, last)
        row = Assignment.objects.filter(id__gte=start).order_by("id").values_list("ticket_id", "unit_id").first()
        if row is not None:
            found.append(row)
    return found


def client_for(user: User) -> Client:
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


def timed(client: Client, url: str) -> float:
    began = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - began) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url}: HTTP {response.status_code}")
    return elapsed


def report(label: str, times: list[float]) -> None:
    print(
        f"{label:<28} n={len(times):<4} median {statistics.median(times):7.1f} ms   "
        f"p95 {percentile(times, 95):7.1f} ms   p99 {percentile(times, 99):7.1f} ms   max {max(times):7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100, help="requests per reader (after 10 warm-ups)")
    args = parser.parse_args()

    supervisor = User.objects.filter(role=Role.SUPERVISOR, is_active=True).first()
    if supervisor is None:
        raise SystemExit("no supervisor account: run manage.py seed_demo first")
    picks = sample_assignments(args.requests + 10)
    staff_by_unit = {
        u.unit_id: u for u in User.objects.filter(role=Role.UNIT_STAFF, is_active=True, unit_id__isnull=False)
    }
    centre = client_for(supervisor)
    unit_clients: dict[int, Client] = {}

    def unit_client(unit_id: int) -> Client | None:
        if unit_id not in staff_by_unit:
            return None
        if unit_id not in unit_clients:
            unit_clients[unit_id] = client_for(staff_by_unit[unit_id])
        return unit_clients[unit_id]

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    for ticket_id, _unit in picks[:10]:  # warm-up
        timed(centre, f"/tickets/{ticket_id}/")
    report("baseline GET /api/me/", [timed(centre, "/api/me/") for _ in range(args.requests)])
    report("ticket page, supervisor", [timed(centre, f"/tickets/{t}/") for t, _u in picks[10:]])
    unit_times = [timed(c, f"/tickets/{t}/") for t, u in picks[10:] if (c := unit_client(u)) is not None]
    if unit_times:
        report("ticket page, unit staff", unit_times)
    else:
        print("ticket page, unit staff      (no staff account for the sampled units)")
    ticket_id, unit_id = picks[0]
    for label, client in (("supervisor", centre), ("unit staff", unit_client(unit_id))):
        if client is None:
            continue
        with CaptureQueriesContext(connection) as queries:
            client.get(f"/tickets/{ticket_id}/")
        print(f"SQL statements per page ({label}): {len(queries.captured_queries)}")


if __name__ == "__main__":
    main()
