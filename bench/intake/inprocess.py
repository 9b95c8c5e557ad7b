"""CPU cost of one `POST /api/tickets/` in process: where an intake's time goes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> REDIS_URL=redis://127.0.0.1:6379/<n> \
        .venv/bin/python bench/intake/inprocess.py --n 300 [--profile 25] [--asgi]

With --asgi the requests go through the served ASGI application (`hotline.asgi`: admission,
Django's ASGI handler and its thread hand-overs) instead of Django's test Client, still without a
server or a network: the difference between the two runs is the ASGI handling's own cost.

The database must hold the demo city (`migrate`, `seed_demo`, `ensure_default_model`). Django's
test Client drives the real stack (middleware, token authentication, DRF, ticket_create with
classification, routing, deadlines, history, SMS rows, fingerprint, scorecards, the after-commit
live push and Celery sends) with the same 100–300-character citizen messages as
`peer_compare.py`. No ASGI server and no network: this is the server-side CPU per ticket (the
figure that bounds throughput on 2 cores), beside a same-run baseline (`GET /api/me/`). Prints
medians of process CPU and wall time, statements per intake, and with --profile the top
functions by cumulative CPU time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")


def postgres_cpu_seconds(database: str) -> float:
    """CPU time of this database's PostgreSQL backends on this machine (from /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
            if not cmdline.startswith("postgres:") or f" {database} " not in cmdline:
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


_LOOP = asyncio.new_event_loop()  # one loop for every request, as in a served worker


def asgi_call(method: str, path: str, token: str, body: bytes) -> tuple[int, bytes]:
    """One request through the served ASGI application, as uvicorn would hand it over."""
    from hotline.asgi import application

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"), (b"authorization", f"Token {token}".encode()),
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }  # fmt: skip
    sent: list[dict] = []

    async def receive() -> dict:
        if not sent and not getattr(receive, "done", False):
            receive.done = True  # type: ignore[attr-defined]
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client stays connected
        return {}

    async def send(message: dict) -> None:
        sent.append(message)

    _LOOP.run_until_complete(application(scope, receive, send))
    return int(sent[0]["status"]), b"".join(m.get("body", b"") for m in sent[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300, help="tickets to file (after 30 untimed)")
    parser.add_argument("--profile", type=int, default=0, metavar="K", help="print the top K functions")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--asgi", action="store_true", help="through hotline.asgi, not the test Client")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.intake.peer_compare import citizen_messages, payloads_for
    from tickets.accounts.services import api_token_issue
    from tickets.org.models import User

    user = User.objects.filter(role="operator", is_active=True).order_by("id").first()
    if user is None:
        sys.exit("no operator: run `manage.py seed_demo` on this database first")
    token = api_token_issue(user=user)[0]
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    payloads = payloads_for("ours", citizen_messages(args.seed), args.n + 31, args.seed, [])

    def post(body: dict) -> None:
        if args.asgi:
            status, content = asgi_call("POST", "/api/tickets/", token, json.dumps(body).encode())
        else:
            response = client.post("/api/tickets/", body, content_type="application/json")
            status, content = response.status_code, response.content
        assert status == 201, (status, content[:300])

    def get_me(_: dict) -> None:
        status = asgi_call("GET", "/api/me/", token, b"")[0] if args.asgi else client.get("/api/me/").status_code
        assert status == 200

    for body in payloads[:30]:
        post(body)
    with CaptureQueriesContext(connection) as queries:
        post(payloads[30])
    statements = len(queries.captured_queries)

    def timed(call, bodies: list[dict]) -> tuple[list[float], list[float]]:
        cpu, wall = [], []
        for body in bodies:
            c0, w0 = time.process_time(), time.perf_counter()
            call(body)
            cpu.append((time.process_time() - c0) * 1000)
            wall.append((time.perf_counter() - w0) * 1000)
        return cpu, wall

    base_cpu, base_wall = timed(get_me, payloads[: min(args.n, 200)])
    database = connection.settings_dict["NAME"]
    pg0 = postgres_cpu_seconds(database)
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    if profiler:
        profiler.enable()
    cpu, wall = timed(post, payloads[31 : 31 + args.n])
    if profiler:
        profiler.disable()
    pg_ms = (postgres_cpu_seconds(database) - pg0) * 1000 / len(cpu)
    load = os.getloadavg()[0]
    via = "ASGI" if args.asgi else "test Client"
    print(f"database: {connection.vendor}; n={len(cpu)}; load average {load:.1f}; via {via}")
    med = statistics.median
    print(f"baseline GET /api/me/     cpu p50 {med(base_cpu):6.2f} ms   wall p50 {med(base_wall):6.2f} ms")
    print(f"intake POST /api/tickets/ cpu p50 {med(cpu):6.2f} ms   wall p50 {med(wall):6.2f} ms"
          f"   ({med(cpu) / med(base_cpu):.1f}x baseline cpu)")  # fmt: skip
    print(f"statements per intake: {statements}")
    if connection.vendor == "postgresql":
        print(f"PostgreSQL backends' CPU per intake (same machine, /proc): {pg_ms:.2f} ms")
    if profiler:
        pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(args.profile)


if __name__ == "__main__":
    main()
