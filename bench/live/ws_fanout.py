"""Live feed fan-out: N concurrent WebSocket clients on one uvicorn, Redis channel layer.

Measures, for `ticket.dispatched` events (heard by every client: operators, dispatchers,
supervisors, the street and its district):
- commit → receipt latency, p50 / p99 over every (event, client) pair; the commit time is
  stamped by an on_commit hook registered before the broadcast's own;
- server memory per connection: (RSS with N sockets − RSS with a few warm sockets) / N.
A baseline with a handful of clients runs first, in the same run, for the ratio.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_live \
    REDIS_URL=redis://127.0.0.1:6379/5 \
    python bench/live/ws_fanout.py --clients 1000 --events 20

The database is migrated and seeded with the demo organisation if needed (no tickets but the
ones this script creates). Everything is bounded: connects time out, the run stops after
--budget seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hotline_live")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/5")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")

import django  # noqa: E402

django.setup()

import websockets  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from tickets.demo import seed  # noqa: E402
from tickets.models import Ticket, TicketEvent, Unit, User  # noqa: E402
from tickets.services import intake, sla, workflow  # noqa: E402
from tickets.services.actors import Actor  # noqa: E402

LISTENERS = ["supervisor1", "dispatcher1", "operator1", "donghu_staff", "donghu_xinhua_staff"]
TARGET_UNIT = "donghu-xinhua"


def raise_fd_limit(want: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(max(soft, want), hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def prepare(events: int) -> tuple[list[str], list[Ticket]]:
    call_command("migrate", verbosity=0)
    if not User.objects.filter(username="supervisor1").exists():
        sla.profile_ensure_default()
        units = seed.seed_units()
        cats = seed.seed_categories()
        seed.seed_routing(units, cats)
        seed.seed_users(units)
    keys = [Token.objects.get_or_create(user=User.objects.get(username=n))[0].key for n in LISTENERS]
    operator = Actor.of(User.objects.get(username="operator1"))
    tickets = [
        intake.ticket_create(
            actor=operator,
            channel="phone",
            text=f"压测工单 {i}：路灯不亮",
            citizen_phone="13800001111",
            auto_route=False,
        )
        for i in range(events)
    ]
    return keys, tickets


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Receipts:
    at: dict[int, list[float]] = field(default_factory=dict)  # cursor → receipt times

    def add(self, cursor: int, t: float) -> None:
        self.at.setdefault(cursor, []).append(t)


async def client(url: str, key: str, receipts: Receipts, ready: asyncio.Event, stop: asyncio.Event) -> None:
    async with websockets.connect(
        url, additional_headers={"Authorization": f"Token {key}"}, open_timeout=60, max_queue=None
    ) as ws:
        await ws.recv()  # hello
        ready.set()
        reader = asyncio.ensure_future(_read(ws, receipts))
        await stop.wait()
        reader.cancel()


async def _read(ws: Any, receipts: Receipts) -> None:
    import json

    async for raw in ws:
        t = time.time()  # stamp before parsing: the client's own JSON work is not the server's latency
        msg = json.loads(raw)
        if msg.get("type") == "ticket.dispatched":
            receipts.add(msg["cursor"], t)


async def open_clients(url: str, keys: list[str], n: int, receipts: Receipts, stop: asyncio.Event) -> list[Any]:
    sem = asyncio.Semaphore(50)  # a connect storm of 1,000 at once only measures the accept queue
    tasks = []
    readies = []

    async def one(i: int) -> None:
        ready = asyncio.Event()
        readies.append(ready)
        async with sem:
            task = asyncio.ensure_future(client(url, keys[i % len(keys)], receipts, ready, stop))
            tasks.append(task)
            await asyncio.wait_for(ready.wait(), timeout=60)

    await asyncio.gather(*(one(i) for i in range(n)))
    return tasks


def dispatch_stamped(ticket: Ticket, unit: Unit, actor: Actor, commits: dict[int, float]) -> None:
    stamp: list[float] = []
    with transaction.atomic():
        transaction.on_commit(lambda: stamp.append(time.time()))  # runs before the broadcast's hook
        workflow.ticket_dispatch(ticket=ticket, actor=actor, lead_unit=unit)
    cursor = TicketEvent.objects.filter(ticket=ticket, action="dispatch").values_list("id", flat=True).get()
    commits[cursor] = stamp[0]


async def measure(url: str, keys: list[str], n: int, tickets: list[Ticket], interval: float) -> list[float]:
    receipts, stop = Receipts(), asyncio.Event()
    tasks = await open_clients(url, keys, n, receipts, stop)
    unit = await asyncio.to_thread(Unit.objects.get, code=TARGET_UNIT)
    actor = Actor.of(await asyncio.to_thread(User.objects.get, username="dispatcher1"))
    commits: dict[int, float] = {}
    for ticket in tickets:
        await asyncio.to_thread(dispatch_stamped, ticket, unit, actor, commits)
        await asyncio.sleep(interval)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and sum(len(receipts.at.get(c, [])) for c in commits) < n * len(commits):
        await asyncio.sleep(0.1)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    lost = n * len(commits) - sum(len(receipts.at.get(c, [])) for c in commits)
    if lost:
        print(f"  WARNING: {lost} receipts missing")
    return [(t - commits[c]) * 1000 for c in commits for t in receipts.at.get(c, [])]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main_async(args: argparse.Namespace) -> None:
    keys, tickets = await asyncio.to_thread(prepare, args.events + args.baseline_events)
    port = free_port()
    env = {**os.environ, "ALLOWED_HOSTS": "127.0.0.1,localhost", "LOG_LEVEL": "ERROR"}
    # -X faulthandler: if shutdown hangs, SIGABRT dumps the stacks into the server log.
    # --timeout-graceful-shutdown: a consumer stuck in channels-redis's cancelled receive
    # must not keep the server alive (bench/live/README.md).
    cmd = [sys.executable, "-X", "faulthandler", "-m", "uvicorn", "hotline.asgi:application"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning"]
    cmd += ["--timeout-graceful-shutdown", "5"]
    server_log = Path(args.server_log).open("wb")  # noqa: SIM115  (closed in the finally below)
    server = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=server_log)
    url = f"ws://127.0.0.1:{port}/ws/live/"
    try:
        for _ in range(300):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                await asyncio.sleep(0.1)
        # Warm up (imports, pools), then the baseline with a handful of sockets.
        base = await measure(url, keys, args.baseline_clients, tickets[: args.baseline_events], args.interval)
        await asyncio.sleep(1)
        rss_before = rss_kb(server.pid)
        receipts, stop = Receipts(), asyncio.Event()
        t0 = time.monotonic()
        tasks = await open_clients(url, keys, args.clients, receipts, stop)
        connect_s = time.monotonic() - t0
        await asyncio.sleep(1)
        rss_after = rss_kb(server.pid)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.sleep(1)
        full = await measure(url, keys, args.clients, tickets[args.baseline_events :], args.interval)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            print(f"server did not stop within 10 s; see {args.server_log}")
            server.send_signal(signal.SIGABRT)  # faulthandler dumps every thread's stack
            server.wait(timeout=10)
        server_log.close()

    print(f"live fan-out, uvicorn + channels-redis, {os.cpu_count()} cores (shared)")
    print(
        f"  baseline {args.baseline_clients:>5} clients × {args.baseline_events} events: "
        f"p50 {statistics.median(base):6.1f} ms  p99 {pct(base, 0.99):6.1f} ms  (n={len(base)})"
    )
    print(
        f"  fan-out  {args.clients:>5} clients × {args.events} events: "
        f"p50 {statistics.median(full):6.1f} ms  p99 {pct(full, 0.99):6.1f} ms  "
        f"max {max(full):6.1f} ms  (n={len(full)})"
    )
    print(f"  p99 ratio fan-out / baseline: {pct(full, 0.99) / pct(base, 0.99):.1f}×   goal p99 ≤ 250 ms")
    print(f"  connect {args.clients} clients: {connect_s:.1f} s")
    delta = rss_after - rss_before
    print(
        f"  server RSS {rss_before / 1024:.0f} MiB → {rss_after / 1024:.0f} MiB: "
        f"{delta / args.clients:.1f} KiB per connection"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between events")
    parser.add_argument("--baseline-clients", type=int, default=5)
    parser.add_argument("--baseline-events", type=int, default=10)
    parser.add_argument("--server-log", default="/tmp/live_bench_server.log")
    parser.add_argument("--budget", type=float, default=240, help="hard stop, seconds")
    args = parser.parse_args()
    limit = raise_fd_limit(args.clients * 2 + 256)
    print(f"fd limit {limit}")
    asyncio.run(asyncio.wait_for(main_async(args), timeout=args.budget))


if __name__ == "__main__":
    main()
