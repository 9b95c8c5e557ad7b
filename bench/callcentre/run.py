"""Call centre under load: N callers queued, M operators taking calls, all through signed Twilio
webhooks against the production setup (PostgreSQL, Redis, `hotline.serve` with 2 workers).

This process plays Twilio: it posts every webhook a real call makes (incoming → waitUrl → the
seat's leg → bridge → dial status → recording → enqueue action), signed with RequestValidator,
and runs a local fake of Twilio's REST API that the server calls to ring a seat
(`calls.create`): each ring makes this process answer the seat's leg and bridge the head of the
desk's queue (FIFO, as Twilio's `<Dial><Queue>` does). Each operator holds a live WebSocket.

Measured: bridge webhook sent → the 来电弹屏 (`call.bridged`) received on that operator's socket,
p50/p99; the bridge webhook's own answer time; and that nothing is lost or duplicated (every
caller bridged once, every pop received once, by the bridged operator and nobody else).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_callcentre \
    REDIS_URL=redis://127.0.0.1:6379/10 \
    .venv/bin/python -m bench.callcentre.run --callers 500 --operators 50

Bounded: the run stops after --budget seconds whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hotline_callcentre")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/10")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")

import django  # noqa: E402

django.setup()

import aiohttp  # noqa: E402
import websockets  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from tests.readiness import free_port  # noqa: E402
from tickets.accounts.services import api_token_issue  # noqa: E402
from tickets.callcentre.models import Desk, QueuedCall, Seat, SeatState  # noqa: E402
from tickets.callcentre.services import seats  # noqa: E402
from tickets.demo import seed  # noqa: E402
from tickets.org.models import Role, User  # noqa: E402
from tickets.sla.services import policy  # noqa: E402

TOKEN = "bench-callcentre-auth-token"
ACCOUNT = "AC" + "5" * 32
LINE = "+8612345"
CC = "/webhooks/twilio/callcentre"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def prepare(operators: int) -> list[tuple[int, str]]:
    """The demo organisation, M operators with seats on the general desk, one API token each."""
    call_command("migrate", verbosity=0)
    if not User.objects.filter(username="supervisor1").exists():
        policy.profile_ensure_default()
        units = seed.seed_units()
        cats = seed.seed_categories()
        seed.seed_routing(units, cats)
        seed.seed_users(units)
    Seat.objects.update(state=SeatState.OFFLINE, leg_call_sid="")  # a previous run's seats
    general = Desk.objects.get(code="general")
    out = []
    for n in range(1, operators + 1):
        user, _ = User.objects.get_or_create(username=f"cc-op-{n:03d}", defaults={"role": Role.OPERATOR})
        seat, _ = Seat.objects.get_or_create(user=user, defaults={"state_since": timezone.now()})
        seat.skills.set([general])
        out.append((user.pk, api_token_issue(user=user)[0]))
    return out


class FakeTwilio:
    """Twilio's REST API as far as the server uses it here: POST …/Calls.json rings a seat."""

    def __init__(self, loop: asyncio.AbstractEventLoop, rings: asyncio.Queue[dict[str, str]]) -> None:
        self.created = 0
        lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                with lock:
                    fake.created += 1
                    sid = f"CA{secrets.token_hex(16)}"
                body = json.dumps(
                    {"sid": sid, "account_sid": ACCOUNT, "to": form.get("To"), "status": "queued"}
                ).encode()
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                loop.call_soon_threadsafe(rings.put_nowait, {"sid": sid, **form})

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class Bench:
    def __init__(self, base: str, session: aiohttp.ClientSession, callers: int) -> None:
        self.base, self.session = base, session
        self.validator = RequestValidator(TOKEN)
        self.queue: deque[str] = deque()  # Twilio's desk queue, FIFO
        self.queued = asyncio.Condition()
        self.enqueued_at: dict[str, float] = {}
        self.bridge_sent: dict[str, float] = {}
        self.bridge_answer_ms: list[float] = []
        self.incoming_answer_ms: list[float] = []
        self.bridged_by: dict[str, int] = {}
        self.pops: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self.errors: list[str] = []
        self.callers = callers
        self.done = asyncio.Event()
        self.completed = 0

    async def post(self, path: str, **params: str) -> str:
        url = self.base + path
        headers = {"X-Twilio-Signature": self.validator.compute_signature(url, params)}
        async with self.session.post(url, data=params, headers=headers) as answer:
            text = await answer.text()
            if answer.status != 200:
                self.errors.append(f"{path} {answer.status} {text[:80]}")
            return text

    async def caller(self, n: int) -> None:
        sid = f"CA{secrets.token_hex(16)}"
        start = time.monotonic()
        xml = await self.post(f"{CC}/voice/", CallSid=sid, From=f"+86139{n:08d}", To=LINE, CallStatus="ringing")
        self.incoming_answer_ms.append((time.monotonic() - start) * 1000)
        if "<Enqueue" not in xml:
            self.errors.append(f"caller {n} not queued: {xml[:120]}")
            return
        async with self.queued:
            self.queue.append(sid)
            self.enqueued_at[sid] = time.monotonic()
            self.queued.notify_all()
        await self.post(f"{CC}/wait/", CallSid=sid, QueuePosition=str(len(self.queue)), QueueTime="0", AvgQueueTime="0")

    async def ring(self, ring: dict[str, str], talk: float) -> None:
        """The server rang a seat: its leg answers, dials the queue, the head is bridged."""
        seat_id = int(parse_qs(urlsplit(ring["Url"]).query)["seat"][0])
        leg = ring["sid"]
        await self.post(f"{CC}/seat/?seat={seat_id}", CallSid=leg, From=LINE, To=ring["To"])
        async with self.queued:
            await self.queued.wait_for(lambda: bool(self.queue))
            caller = self.queue.popleft()
        waited = str(int(time.monotonic() - self.enqueued_at[caller]))
        self.bridged_by[caller] = seat_id
        self.bridge_sent[caller] = time.time()
        start = time.monotonic()
        await self.post(
            f"{CC}/bridge/", CallSid=caller, DequeingCallSid=leg, QueueSid="QU" + "1" * 32, QueueTime=waited
        )
        self.bridge_answer_ms.append((time.monotonic() - start) * 1000)
        await asyncio.sleep(talk)
        await self.post(f"{CC}/dial/", CallSid=leg, DialCallStatus="completed", DialCallDuration="1")
        rec = f"RE{secrets.token_hex(16)}"
        await self.post(f"{CC}/recording/", CallSid=leg, RecordingSid=rec, RecordingUrl=f"demo:{rec}",
                        RecordingStatus="completed", RecordingDuration="1")  # fmt: skip
        await self.post(f"{CC}/left/", CallSid=caller, QueueResult="bridged", QueueTime=waited)
        self.completed += 1
        if self.completed >= self.callers:
            self.done.set()

    async def listen(self, ws_url: str, user_id: int, key: str, ready: asyncio.Event, counter: list[int]) -> None:
        async with websockets.connect(
            ws_url, additional_headers={"Authorization": f"Token {key}"}, open_timeout=60
        ) as ws:
            async for raw in ws:
                now = time.time()
                data = json.loads(raw)
                if data.get("type") == "hello":
                    counter[0] += 1
                    if counter[0] == counter[1]:
                        ready.set()
                elif data.get("type") == "call.bridged":
                    self.pops[data["call_sid"]].append((user_id, now))


async def run(args: argparse.Namespace) -> int:
    operators = await asyncio.to_thread(prepare, args.operators)
    loop = asyncio.get_running_loop()
    rings: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    fake = FakeTwilio(loop, rings)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_FROM_NUMBER": LINE,
        "TWILIO_API_BASE_URL": fake.url,
        "HOTLINE_PUBLIC_URL": base,
        "HOTLINE_CALLCENTRE_WRAP_UP_SECONDS": "0",
        "HOTLINE_CALLCENTRE_OVERFLOW_SECONDS": "100000",
        # Every webhook comes from this one address, as Twilio's come from a small pool: the
        # default per-address limit (1,200/min) stays, validly signed webhooks are not counted.
    }
    log = Path(args.server_log).open("wb")  # noqa: SIM115  (closed below)
    cmd = [sys.executable, "-m", "hotline.serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    server = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=log)
    started = time.monotonic()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            for _ in range(600):
                try:
                    async with session.get(f"{base}/readyz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
            bench = Bench(base, session, args.callers)
            ready = asyncio.Event()
            counter = [0, len(operators)]
            ws_url = f"ws://127.0.0.1:{port}/ws/live/"
            listeners = [asyncio.create_task(bench.listen(ws_url, uid, key, ready, counter)) for uid, key in operators]
            await asyncio.wait_for(ready.wait(), 120)
            # operators go 就绪 (as from the console), one after the other
            for uid, _ in operators:
                await asyncio.to_thread(
                    lambda u=uid: seats.seat_move(seat=Seat.objects.get(user_id=u), to=SeatState.READY, reason="bench")
                )
            t0 = time.monotonic()
            gate = asyncio.Semaphore(args.concurrency)

            async def one(n: int) -> None:
                await asyncio.sleep(n / args.arrivals)  # callers arrive at a steady rate
                async with gate:
                    await bench.caller(n)

            async def answer_rings() -> None:
                tasks = []
                while not bench.done.is_set():
                    try:
                        ring = await asyncio.wait_for(rings.get(), 1)
                    except TimeoutError:
                        continue
                    tasks.append(asyncio.create_task(bench.ring(ring, args.talk)))
                await asyncio.gather(*tasks, return_exceptions=True)

            ringer = asyncio.create_task(answer_rings())
            await asyncio.gather(*(one(n) for n in range(args.callers)))
            queued_in = time.monotonic() - t0
            try:
                await asyncio.wait_for(bench.done.wait(), max(1, args.budget - (time.monotonic() - started)))
            except TimeoutError:
                print(f"  budget of {args.budget} s reached with {bench.completed} calls done")
            await asyncio.sleep(1.0)  # the last pops in flight
            ringer.cancel()
            for task in listeners:
                task.cancel()
            elapsed = time.monotonic() - t0
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        fake.server.shutdown()
    latencies = [(bench.pops[c][0][1] - sent) * 1000 for c, sent in bench.bridge_sent.items() if bench.pops.get(c)]
    bridged = len(bench.bridge_sent)
    missing = [c for c in bench.bridge_sent if not bench.pops.get(c)]
    duplicated = [c for c, got in bench.pops.items() if len(got) > 1]
    wrong = [c for c, got in bench.pops.items() if any(uid != bench.bridged_by.get(c) for uid, _ in got)]
    stored = await asyncio.to_thread(
        lambda: QueuedCall.objects.filter(call__call_sid__in=list(bench.bridge_sent), outcome="bridged").count()
    )
    print(f"callers {args.callers} ({args.arrivals}/s), operators {args.operators}, talk {args.talk}s")
    print(f"  all callers queued in {queued_in:.1f} s; all calls done in {elapsed:.1f} s; seats rung {fake.created}")
    print(f"  bridged {bridged}, stored as bridged {stored}, pops received {sum(len(v) for v in bench.pops.values())}")
    print(f"  lost pops {len(missing)}, duplicated pops {len(duplicated)}, pops to the wrong operator {len(wrong)}")
    print(f"  webhook errors {len(bench.errors)}{': ' + '; '.join(bench.errors[:3]) if bench.errors else ''}")
    print(f"  bridge webhook sent -> pop on the operator's socket: p50 {statistics.median(latencies):.1f} ms, "
          f"p99 {pct(latencies, 0.99):.1f} ms, max {max(latencies):.1f} ms (n={len(latencies)})")  # fmt: skip
    print(f"  bridge webhook answered: p50 {statistics.median(bench.bridge_answer_ms):.1f} ms, "
          f"p99 {pct(bench.bridge_answer_ms, 0.99):.1f} ms")  # fmt: skip
    print(f"  incoming-call webhook answered (the greeting): p50 {statistics.median(bench.incoming_answer_ms):.1f} ms, "
          f"p99 {pct(bench.incoming_answer_ms, 0.99):.1f} ms")  # fmt: skip
    ok = (
        not missing
        and not duplicated
        and not wrong
        and stored == bridged == args.callers
        and pct(latencies, 0.99) <= 300
    )
    print("  goal (p99 <= 300 ms, nothing lost or duplicated):", "met" if ok else "NOT met")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--callers", type=int, default=500)
    parser.add_argument("--operators", type=int, default=50)
    parser.add_argument("--talk", type=float, default=3.0, help="seconds each call lasts")
    parser.add_argument("--arrivals", type=float, default=25.0, help="callers arriving per second")
    parser.add_argument("--concurrency", type=int, default=16, help="incoming webhooks in flight")
    parser.add_argument("--budget", type=float, default=170.0)
    parser.add_argument("--server-log", default="/tmp/callcentre_bench_server.log")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
