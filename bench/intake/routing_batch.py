"""CPU cost of routing accepted tickets in batches, in process: the routing worker's side of issue 17.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> REDIS_URL=redis://127.0.0.1:6379/<n> \
        HOTLINE_ROUTING_INLINE=0 .venv/bin/python bench/intake/routing_batch.py --n 600 --batch 30 --rounds 3

The database must hold the demo city (`migrate`, `seed_demo`, `ensure_default_model`); REDIS_URL a
database no worker listens on (the intakes' wake-ups land there unread). Each round accepts N
tickets (untimed) with the same 100–300-character citizen messages as `peer_compare.py`, then
routes them as the worker does (`tickets_route_pending`, `--batch` at a time: places, one
classifier call, catalogue, dispatch with assignments and deadlines, events, 受理 SMS rows,
fingerprints, scorecards, live push) and prints, per round, this process's CPU and PostgreSQL's
CPU per ticket routed; then the medians over rounds. A baseline in the same run: `--batch 1`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=600, help="tickets per round")
    ap.add_argument("--batch", type=int, default=30, help="tickets per routing batch")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from bench.intake.inprocess import postgres_cpu_seconds
    from bench.intake.peer_compare import citizen_messages
    from tickets.core.actors import Actor
    from tickets.intake.services import intake, routing_batch
    from tickets.org.models import User

    assert connection.vendor == "postgresql" and not settings.ROUTING_INLINE, "PostgreSQL, HOTLINE_ROUTING_INLINE=0"
    database = connection.settings_dict["NAME"]
    operator = Actor.of(User.objects.filter(role="operator", is_active=True).order_by("id").first())
    texts = [text for _title, text in citizen_messages(args.seed)]
    cpu_ms, pg_ms = [], []
    for round_no in range(args.rounds):
        for i in range(args.n):
            intake.ticket_create(actor=operator, channel="phone", text=texts[(round_no * args.n + i) % len(texts)])
        routed = 0
        pg0, cpu0, t0 = postgres_cpu_seconds(database), time.process_time(), time.perf_counter()
        while True:
            batch = routing_batch.tickets_route_pending(limit=args.batch)
            routed += len(batch)
            if not batch:
                break
        cpu, pg, wall = time.process_time() - cpu0, postgres_cpu_seconds(database) - pg0, time.perf_counter() - t0
        cpu_ms.append(1000 * cpu / routed)
        pg_ms.append(1000 * pg / routed)
        print(
            f"round {round_no + 1}: {routed} routed in {wall:.1f} s, batch {args.batch}: "
            f"routing process {cpu_ms[-1]:.2f} ms CPU/ticket, PostgreSQL {pg_ms[-1]:.2f} ms/ticket"
        )
    print(
        f"median over {args.rounds} rounds: routing process {statistics.median(cpu_ms):.2f} ms, "
        f"PostgreSQL {statistics.median(pg_ms):.2f} ms, together "
        f"{statistics.median(c + p for c, p in zip(cpu_ms, pg_ms, strict=True)):.2f} ms CPU per ticket routed"
    )


if __name__ == "__main__":
    main()
