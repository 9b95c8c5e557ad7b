"""工单查询 page loads: search and the filtered lists over a database filled by `manage.py seed_bulk`.

Run (after `seed_demo` + `seed_bulk --tickets N`; the lead's figure is at 1M):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_bulk_1m \
        .venv/bin/python bench/pages/lists.py --requests 100 [--explain bench/pages/notes.md]

Each request is the whole page in process through Django's test Client (session, middleware,
the view, django-filter, the keyset page, the capped count, the template), against the real
PostgreSQL database: server time without the network. Cases (terms drawn from the data):
- search: a whole ticket number; a caller's number (centre); words of 4 characters (trigram
  indexes); words of 2 characters (bounded to the newest tickets); a unit's word search;
- filtered lists: none (the state counts of the centre's unfiltered list); state; urgency +
  channel; overdue; 挂牌督办 (alone and with a district) and 问题工单; a district's tickets (unit
  filter) as the centre; category + sort by deadline; a date range; the next (keyset) page of a broad list;
- baseline: the login page (same stack, no ticket query): the ratio column divides by its p50.
Figures: median and p99 wall ms per case (goal: < 300 ms at 1M tickets), Python CPU p50, the summed
SQL execution time of one request (EXPLAIN ANALYZE), and with --explain the plans of every SELECT of
one request of each case (bench/scale/reads.py's request loop and EXPLAIN helper).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.scale.reads import explain, measure  # noqa: E402  (the same request loop as the scale reads)
from tickets.core.models import Ticket  # noqa: E402
from tickets.org.models import Category, Unit, User  # noqa: E402

CJK_RUN = re.compile(r"[\u4e00-\u9fff]{4,}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--district", default="donghu")
    parser.add_argument("--category", default="hjbh", help="top-level category code for the deadline-sorted list")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--explain", default="", help="write EXPLAIN (ANALYZE, BUFFERS) of each case to this file")
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["testserver"]
    rng = random.Random(args.seed)

    total = Ticket.objects.count()
    high = Ticket.objects.latest("id").id
    sample = list(
        Ticket.objects.filter(pk__gt=high - 20_000)
        .exclude(citizen_phone="")
        .order_by("?")
        .values("number", "citizen_phone", "text", "lead_unit_id")[:200]
    )
    if not sample:
        raise SystemExit("no tickets: run seed_demo and seed_bulk first")
    words4 = [m.group(0)[:4] for s in sample for m in CJK_RUN.finditer(s["text"])] or ["小区停水"]
    words2 = [w[:2] for w in words4]
    district = Unit.objects.get(code=args.district)
    category = Category.objects.get(code=args.category)
    staff = User.objects.filter(unit=district, role="unit_staff").order_by("id").first()
    unit_words = words4

    def client_for(user: User | None) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    supervisor = client_for(User.objects.filter(role="supervisor").order_by("id").first())
    operator = client_for(User.objects.filter(role="operator").order_by("id").first())
    unit = client_for(staff)
    today = timezone.localdate()
    week = {"date_from": (today - timedelta(days=7)).isoformat(), "date_to": today.isoformat()}

    def q(**params: object) -> str:
        return "/tickets/?" + urlencode(params)

    first = supervisor.get(q(state="closed"))
    found = re.search(rb'href="/tickets/\?([^"]*after=[^"]*)"', first.content)
    next_page = "/tickets/?" + found.group(1).decode().replace("&amp;", "&") if found else q(state="closed")

    cases: list[tuple[str, Client, Callable[[], str]]] = [
        ("baseline: login page", client_for(None), lambda: "/login/"),
        ("search: ticket number", operator, lambda: q(q=rng.choice(sample)["number"])),
        ("search: caller's number", operator, lambda: q(q=rng.choice(sample)["citizen_phone"][3:])),
        ("search: 4-character words", operator, lambda: q(q=rng.choice(words4))),
        ("search: 2-character words", operator, lambda: q(q=rng.choice(words2))),
        ("search: unit staff, words", unit, lambda: q(q=rng.choice(unit_words))),
        ("list: unfiltered, with state counts", supervisor, lambda: "/tickets/"),
        ("list: state = in_progress", supervisor, lambda: q(state="in_progress")),
        ("list: urgency + channel", supervisor, lambda: q(urgency="urgent", channel="phone")),
        ("list: overdue", supervisor, lambda: q(overdue="true")),
        ("list: 挂牌督办", supervisor, lambda: q(is_flagged="true")),
        ("list: 挂牌督办 + district", supervisor, lambda: q(is_flagged="true", unit=district.pk)),
        ("list: 问题工单", supervisor, lambda: q(is_problem="true")),
        ("list: district (unit filter)", supervisor, lambda: q(unit=district.pk)),
        ("list: category, sort by deadline", supervisor, lambda: q(category=category.pk, sort="due")),
        ("list: last 7 days", supervisor, lambda: q(**week)),
        ("list: next keyset page", supervisor, lambda: next_page),
        ("list: unit staff, own tickets", unit, lambda: q(state="closed")),
    ]
    print(f"{total:,} tickets; {args.requests} requests per case; PostgreSQL {connection.pg_version}")
    print("\n| case | p50 ms | p99 ms | Python CPU p50 ms | SQL ms (EXPLAIN ANALYZE, one request) | p50 / baseline |")
    print("|---|---|---|---|---|---|")
    baseline = None
    notes = [f"# 工单查询 EXPLAIN (ANALYZE, BUFFERS), {total:,} tickets\n"]
    for name, client, urls in cases:
        figures = measure(client, urls, args.requests)
        baseline = baseline or figures["p50"]
        plan, sql_ms = explain(client, urls())
        print(
            f"| {name} | {figures['p50']:.1f} | {figures['p99']:.1f} | {figures['cpu_p50']:.1f} | {sql_ms:.1f} | "
            f"{figures['p50'] / baseline:.1f}× |",
            flush=True,
        )
        if not name.startswith("baseline"):
            notes.append(f"## {name}\n\n{plan}")
    if args.explain:
        Path(args.explain).write_text("\n".join(notes), encoding="utf-8")
        print(f"\nplans: {args.explain}")


if __name__ == "__main__":
    main()
