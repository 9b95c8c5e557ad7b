"""The 热点 page on a surge day: what a count costs the worker, and what a supervisor waits.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> REDIS_URL=redis://127.0.0.1:6379/<n> \
        HOTLINE_ROUTING_INLINE=0 .venv/bin/python bench/duplicates/hotspots_page.py --tickets 20000

The database must hold the demo city (`migrate`, `seed_demo`); REDIS_URL a database no worker
listens on (the page's refresh requests land there unread). First it files `--tickets` tickets
today (untimed, skipped when today already holds that many) with the real 100–300-character
citizen messages `bench/intake/peer_compare.py` uses, none placed in a district: one block of the
size a surge in one district makes. Then, `--rounds` times each, it prints the medians of:

- the worker's refresh of today's count (`hotspot_summaries_refresh`: read, segment, cluster), and
  this process's peak memory before and after the counts;
- a supervisor's load of /board/hotspots/ with the counts kept (the common case);
- the same load right after 150 new tickets, when every count is stale: the page answers with the
  last counts and queues their refresh (before, it clustered all three periods in the request).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tickets", type=int, default=20000, help="tickets today before measuring")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.test import Client
    from django.utils import timezone

    from bench.intake.peer_compare import citizen_messages
    from tickets.core.actors import Actor
    from tickets.core.models import Ticket
    from tickets.duplicates.services import hotspots
    from tickets.intake.services import intake
    from tickets.org.models import User

    assert settings.REDIS_URL and not settings.ROUTING_INLINE, "REDIS_URL (no worker reading), HOTLINE_ROUTING_INLINE=0"
    settings.ALLOWED_HOSTS = ["*"]
    operator = Actor.of(User.objects.get(username="operator1"))
    texts = [text for _title, text in citizen_messages(args.seed)]
    periods = hotspots.page_periods(timezone.localdate(), timezone.localdate().replace(day=1))
    start = periods["today"]["start"]
    have = Ticket.objects.filter(created_at__gte=start).count()
    for i in range(max(0, args.tickets - have)):
        text = texts[i % len(texts)]
        intake.ticket_create(actor=operator, channel="phone", text=text, auto_route=False, notify=False)
    print(f"tickets today: {Ticket.objects.filter(created_at__gte=start).count()}", flush=True)

    supervisor = Client()
    supervisor.force_login(User.objects.get(username="supervisor1"))

    def page_ms() -> float:
        t0 = time.perf_counter()
        response = supervisor.get("/board/hotspots/", HTTP_HOST="127.0.0.1")
        assert response.status_code == 200, response.status_code
        return 1000 * (time.perf_counter() - t0)

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    refresh, kept, stale = [], [], []
    for round_no in range(args.rounds):
        t0 = time.perf_counter()
        hotspots.hotspot_summaries_refresh(start=start, top=10)
        refresh.append(time.perf_counter() - t0)
        for period in periods.values():  # every count kept, as after the worker's refreshes
            hotspots.hotspot_summaries_refresh(**period)
        kept.append(page_ms())
        for i in range(150):
            intake.ticket_create(actor=operator, channel="phone", text=texts[(round_no * 150 + i) % len(texts)],
                                 auto_route=False, notify=False)  # fmt: skip
        stale.append(page_ms())
        print(f"round {round_no + 1}: refresh {refresh[-1]:.1f} s, page {kept[-1]:.0f} ms / stale {stale[-1]:.0f} ms")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"this process's peak RSS: {rss_before} MB before the counts, {peak} MB after")
    print(
        f"median over {args.rounds} rounds: the worker's refresh of today {statistics.median(refresh):.1f} s; "
        f"the page {statistics.median(kept):.0f} ms with counts kept, {statistics.median(stale):.0f} ms when stale"
    )


if __name__ == "__main__":
    main()
