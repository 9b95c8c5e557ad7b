"""CPU of one routing wake-up that finds nothing to do: a real Celery worker and PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> REDIS_URL=redis://127.0.0.1:6379/<n> \
        .venv/bin/python bench/intake/wake_cost.py --n 300 --rounds 3

The database must be migrated (`migrate`) with an empty routing queue; REDIS_URL a database no
other worker listens on. Starts `celery -A hotline worker --concurrency 2` as the Procfile does,
waits for its ready line, then per round sends N `tickets.routing_run` messages 10 ms apart (the
pace of a web process's wake-ups under load is one per 0.1 s; here faster, so the round is short)
and prints, per wake-up: the worker's CPU (main and pool processes) and PostgreSQL's, counted as the
peer bench counts it (every process of the cluster, the postmaster included, with the CPU of
backends that ended during the round: a connection opened for a task and closed after it costs a
backend's start and exit, which a count of the live backends alone would miss). The whole cluster is
counted, so run it on a cluster nothing else is using. The worker's idle CPU per second is printed
beside it as the baseline. The CPU is counted by the peer bench's own helper (`peer_compare.loadgen`,
so the shared folder must be there, as for `routing_batch.py`).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")


def postmaster_pid(loadgen: Any) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    return int(loadgen.proc_table()[backend][0])  # a backend's parent is the postmaster


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300, help="wake-ups per round")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    import django

    django.setup()
    from celery import current_app
    from django.db import connection

    from bench.intake.peer_compare import loadgen  # the peer bench's CPU count (/proc, reaped children included)
    from tickets.core.models import RouteState, Ticket

    assert connection.vendor == "postgresql" and os.environ.get("REDIS_URL"), "PostgreSQL and Redis, please"
    assert not Ticket.objects.exclude(route_state=RouteState.DONE).exists(), "the routing queue must be empty"
    postmaster = postmaster_pid(loadgen)
    log = tempfile.NamedTemporaryFile(prefix="wake-cost-worker-", suffix=".log", delete=False)  # noqa: SIM115
    argv = [sys.executable, "-m", "celery", "-A", "hotline", "worker", "--loglevel", "info", "--concurrency", "2"]
    argv += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    worker = subprocess.Popen(argv, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while b" ready." not in Path(log.name).read_bytes():
            if worker.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"the worker did not start: {Path(log.name).read_text()[-2000:]}")
            time.sleep(0.2)
        rounds: list[tuple[float, float]] = []
        w0 = loadgen.cpu_seconds(worker.pid)
        time.sleep(5.0)
        idle_per_s = (loadgen.cpu_seconds(worker.pid) - w0) / 5.0
        for round_no in range(args.rounds):
            done_before = Path(log.name).read_text().count("] succeeded in ")
            w0, p0 = loadgen.cpu_seconds(worker.pid), loadgen.cpu_seconds(postmaster)
            for _ in range(args.n):
                current_app.send_task("tickets.routing_run")
                time.sleep(0.01)
            while Path(log.name).read_text().count("] succeeded in ") < done_before + args.n:
                time.sleep(0.2)
            worker_ms = 1000 * (loadgen.cpu_seconds(worker.pid) - w0) / args.n
            postgres_ms = 1000 * (loadgen.cpu_seconds(postmaster) - p0) / args.n
            rounds.append((worker_ms, postgres_ms))
            print(
                f"round {round_no + 1}: {args.n} empty wake-ups: "
                f"worker {worker_ms:.2f} ms, PostgreSQL {postgres_ms:.2f} ms CPU each"
            )
        worker_median = statistics.median(r[0] for r in rounds)
        postgres_median = statistics.median(r[1] for r in rounds)
        print(
            f"median over {args.rounds} rounds, per wake-up: worker {worker_median:.2f} ms, PostgreSQL "
            f"{postgres_median:.2f} ms (the worker idle: {1000 * idle_per_s:.2f} ms of CPU per second)"
        )
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
        Path(log.name).unlink()


if __name__ == "__main__":
    main()
