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
import contextlib
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
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

from tickets.accounts.services import api_token_issue  # noqa: E402
from tickets.core.actors import Actor  # noqa: E402
from tickets.core.models import Ticket, TicketEvent  # noqa: E402
from tickets.core.services import workflow  # noqa: E402
from tickets.demo import seed  # noqa: E402
from tickets.intake.services import intake  # noqa: E402
from tickets.org.models import Unit, User  # noqa: E402
from tickets.sla.services import policy  # noqa: E402

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
        policy.profile_ensure_default()
        units = seed.seed_units()
        cats = seed.seed_categories()
        seed.seed_routing(units, cats)
        seed.seed_users(units)
    keys = [api_token_issue(user=User.objects.get(username=n))[0] for n in LISTENERS]
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


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def server_pids(pid: int) -> list[int]:
    """The uvicorn process and its workers (with --workers N the sockets live in the workers)."""
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo += _children(p)
    return pids


def rss_kb(pid: int) -> int:
    """Resident memory of the server: the uvicorn process and all its workers."""
    total = 0
    for p in server_pids(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


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


class PythonClients:
    """n `websockets` clients in this process (they share its event loop with the writer)."""

    def __init__(self, url: str, keys: list[str]) -> None:
        self.url, self.keys = url, keys

    async def start(self, n: int) -> None:
        self.receipts, self.stop_event = Receipts(), asyncio.Event()
        self.tasks = await open_clients(self.url, self.keys, n, self.receipts, self.stop_event)

    def pids(self) -> list[int]:
        return [os.getpid()]

    async def stop(self) -> Receipts:
        self.stop_event.set()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        return self.receipts


NODE_WS = "ws@8.18.0"


def node_modules() -> Path:
    """`ws` installed at bench time into a temp folder (never committed)."""
    prefix = Path(tempfile.gettempdir()) / "hotline-bench-node"
    if not (prefix / "node_modules" / "ws").exists():
        subprocess.run(
            ["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--silent", NODE_WS], check=True
        )
    return prefix / "node_modules"


class NodeClients:
    """n clients in one Node process (bench/live/ws_clients.js), off this process's CPU."""

    def __init__(self, url: str, keys: list[str]) -> None:
        self.url, self.keys = url, keys
        self.modules = node_modules()

    async def start(self, n: int) -> None:
        script = Path(__file__).with_name("ws_clients.js")
        self.proc = await asyncio.create_subprocess_exec(
            "node", str(script), self.url, str(n), *self.keys,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, limit=1 << 26,
            env={**os.environ, "NODE_PATH": str(self.modules)},
        )  # fmt: skip
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout=180)
        if not line.startswith(b"ready"):
            raise RuntimeError(f"node clients failed: {line!r}")
        _, connected, refused, errors = line.decode().split(" ", 3)
        self.connected = int(connected)
        if int(refused):
            print(f"  WARNING: {refused} of {n} sockets refused: {errors.strip()}")

    def pids(self) -> list[int]:
        return [self.proc.pid]

    async def stop(self) -> Receipts:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(b"stop\n")
        await self.proc.stdin.drain()
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout=60)
        await self.proc.wait()
        receipts = Receipts()
        for cursor, times in json.loads(line).items():
            for t in times:
                receipts.add(int(cursor), t / 1000)
        return receipts


def dispatch_stamped(batch: list[Ticket], unit: Unit, actor: Actor, commits: dict[int, float]) -> None:
    """Dispatch the tickets in one transaction: one live message per group carrying them all."""
    stamp: list[float] = []
    with transaction.atomic():
        transaction.on_commit(lambda: stamp.append(time.time()))  # runs before the broadcast's hook
        for ticket in batch:
            workflow.ticket_dispatch(ticket=ticket, actor=actor, lead_unit=unit)
    cursors = TicketEvent.objects.filter(ticket__in=batch, action="dispatch").values_list("id", flat=True)
    commits.update(dict.fromkeys(cursors, stamp[0]))


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (the load of others does not count)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


@dataclass
class Phase:
    latencies: list[float]
    server_cpu_ms: float  # per event
    client_cpu_ms: float  # per event


async def measure(
    clients: PythonClients | NodeClients,
    n: int,
    tickets: list[Ticket],
    interval: float,
    server_pid: int,
    profile: str = "",
    batch: int = 1,
) -> Phase:
    await clients.start(n)
    client_pids = clients.pids()
    unit = await asyncio.to_thread(Unit.objects.get, code=TARGET_UNIT)
    actor = Actor.of(await asyncio.to_thread(User.objects.get, username="dispatcher1"))
    commits: dict[int, float] = {}
    spies = []
    if profile:  # py-spy (requirements-dev) samples the server workers and this client process
        Path(profile).mkdir(parents=True, exist_ok=True)
        seconds = str(int(len(tickets) * interval) + 1)
        for pid in [*server_pids(server_pid), *client_pids, os.getpid()]:
            role = "client" if pid in client_pids else "writer" if pid == os.getpid() else "server"
            out = f"{profile}/{role}-{pid}.txt"
            cmd = ["py-spy", "record", "--pid", str(pid), "--duration", seconds, "--format", "raw", "-o", out]
            spies.append(
                subprocess.Popen(
                    [str(Path(sys.executable).parent / cmd[0]), *cmd[1:]],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        await asyncio.sleep(1)
    server_cpu0, client_cpu0 = cpu_seconds(server_pids(server_pid)), cpu_seconds(client_pids)
    for start in range(0, len(tickets), batch):
        await asyncio.to_thread(dispatch_stamped, tickets[start : start + batch], unit, actor, commits)
        await asyncio.sleep(interval)
    deadline = time.monotonic() + 10
    await asyncio.sleep(1)  # (Python clients: the deadline loop below; Node clients report at stop)
    receipts = clients.receipts if isinstance(clients, PythonClients) else None
    while (
        receipts
        and time.monotonic() < deadline
        and sum(len(receipts.at.get(c, [])) for c in commits) < n * len(commits)
    ):
        await asyncio.sleep(0.1)
    server_cpu = cpu_seconds(server_pids(server_pid)) - server_cpu0
    client_cpu = cpu_seconds(client_pids) - client_cpu0
    for spy in spies:
        spy.wait(timeout=120)
    receipts = await clients.stop()
    lost = getattr(clients, "connected", n) * len(commits) - sum(len(receipts.at.get(c, [])) for c in commits)
    if lost:
        print(f"  WARNING: {lost} receipts missing")
    latencies = [(t - commits[c]) * 1000 for c in commits for t in receipts.at.get(c, [])]
    per_event = 1000 / max(1, len(commits))
    return Phase(latencies, server_cpu * per_event, client_cpu * per_event)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main_async(args: argparse.Namespace) -> None:
    load_before = Path("/proc/loadavg").read_text().split()[0]
    keys, tickets = await asyncio.to_thread(prepare, (args.events + args.baseline_events) * args.batch)
    split = args.baseline_events * args.batch
    port = free_port()
    env = {**os.environ, "ALLOWED_HOSTS": "127.0.0.1,localhost", "LOG_LEVEL": "WARNING"}
    # -X faulthandler: if shutdown hangs, SIGABRT dumps the stacks into the server log.
    # --timeout-graceful-shutdown: a consumer stuck in channels-redis's cancelled receive
    # must not keep the server alive (bench/live/README.md).
    cmd = [sys.executable, "-X", "faulthandler", "-m", "uvicorn", "hotline.asgi:application"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", args.server_log_level]
    cmd += ["--timeout-graceful-shutdown", "5"]
    cmd += ["--ws-per-message-deflate", "true" if args.deflate else "false"]  # Procfile: false
    if args.workers > 1:
        cmd += ["--workers", str(args.workers)]  # as the Procfile runs it
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
        kind = NodeClients if args.client == "node" else PythonClients
        base_phase = await measure(
            kind(url, keys), args.baseline_clients, tickets[:split], args.interval, server.pid, batch=args.batch
        )
        await asyncio.sleep(1)
        rss_before = rss_kb(server.pid)
        clients = kind(url, keys)
        t0 = time.monotonic()
        await clients.start(args.clients)
        connect_s = time.monotonic() - t0
        await asyncio.sleep(1)
        rss_after = rss_kb(server.pid)
        await clients.stop()
        await asyncio.sleep(1)
        full_phase = await measure(
            kind(url, keys), args.clients, tickets[split:], args.interval, server.pid, args.profile, args.batch
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            print(f"server did not stop within 10 s; see {args.server_log}")
            server.send_signal(signal.SIGABRT)  # faulthandler dumps every thread's stack
            server.wait(timeout=10)
        server_log.close()

    base, full = base_phase.latencies, full_phase.latencies
    print(
        f"live fan-out, uvicorn --workers {args.workers} (deflate {'on' if args.deflate else 'off'}) + channels-redis, "
        f"{args.client} clients, {os.cpu_count()} cores (shared), {args.batch} event(s) per message, "
        f"load before {load_before}"
    )
    print(
        f"  baseline {args.baseline_clients:>5} clients × {args.baseline_events * args.batch} events: "
        f"p50 {statistics.median(base):6.1f} ms  p99 {pct(base, 0.99):6.1f} ms  (n={len(base)})"
    )
    print(
        f"  fan-out  {args.clients:>5} clients × {args.events * args.batch} events: "
        f"p50 {statistics.median(full):6.1f} ms  p99 {pct(full, 0.99):6.1f} ms  "
        f"max {max(full):6.1f} ms  (n={len(full)})"
    )
    print(f"  p99 ratio fan-out / baseline: {pct(full, 0.99) / pct(base, 0.99):.1f}×   goal p99 ≤ 250 ms")
    print(f"  connect {args.clients} clients: {connect_s:.1f} s")
    for name, phase in (("baseline", base_phase), ("fan-out", full_phase)):
        print(
            f"  CPU per event, {name}: server {phase.server_cpu_ms:.1f} ms, "
            f"{args.client} clients {phase.client_cpu_ms:.1f} ms"
        )
    delta = rss_after - rss_before
    print(
        f"  server RSS {rss_before / 1024:.0f} MiB → {rss_after / 1024:.0f} MiB: "
        f"{delta / args.clients:.1f} KiB per connection"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between events (batches)")
    parser.add_argument(
        "--batch", type=int, default=1, help="tickets dispatched per transaction (events per live message)"
    )
    parser.add_argument("--deflate", action="store_true", help="let uvicorn compress frames (Procfile: off)")
    parser.add_argument("--client", choices=["node", "python"], default="node", help="load generator")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (Procfile: 2)")
    parser.add_argument("--baseline-clients", type=int, default=5)
    parser.add_argument("--baseline-events", type=int, default=10)
    parser.add_argument("--server-log", default="/tmp/live_bench_server.log")
    parser.add_argument("--server-log-level", default="warning")
    parser.add_argument("--profile", default="", help="folder: py-spy raw stacks of the fan-out phase")
    parser.add_argument("--budget", type=float, default=240, help="hard stop, seconds")
    args = parser.parse_args()
    limit = raise_fd_limit(args.clients * 2 + 256)
    print(f"fd limit {limit}")
    asyncio.run(asyncio.wait_for(main_async(args), timeout=args.budget))


if __name__ == "__main__":
    main()
