"""Intake under load, ours against django-helpdesk, in one run (issue 10, "Benchmarks → Intake").

    .venv/bin/python bench/intake/peer_compare.py            # N=2000 per level, C=1,8,32,128
    .venv/bin/python bench/intake/peer_compare.py --n 500 --levels 8,32

What it does, every time from scratch:
1. starts a private PostgreSQL 15 (initdb in a temp dir, port 5447, stock settings) and a private
   Redis (port 6447): the CPU time of exactly these processes is counted, and the shared servers
   of the machine stay untouched;
2. sets up the peer with ../shared/bench/peer-helpdesk/setup.sh (SKIP_PG=1: venv in
   /tmp/peer/helpdesk), migrates it into the private PostgreSQL and serves it as its README says
   (gunicorn, 2 sync workers, DEBUG off);
3. migrates ours into the same PostgreSQL, trains/ensures the demo model, seeds the demo city and
   serves it as in production: `honcho start -f Procfile` = uvicorn with 2 workers, a Celery
   worker and beat, Redis as channel layer and broker; classification, routing, deadlines,
   history, SMS notices and live push all on;
4. for each concurrency level, sends the same N tickets to the peer and then to ours (keep-alive
   connections, an untimed warm-up first): citizen messages of 100–300 characters read at run time
   from ../shared/data (never stored in the repository);
5. measures, for ours, both the accept (the POST's answer: the ticket is stored, 分派中) and the
   end to end (issue 17): after the level's load it waits until the routing worker has routed
   every ticket of the level and reads, from the database, each ticket's time from accept to its
   routing decision (dispatched, or queued for a dispatcher), the routing rate (tickets routed per
   second from the level's first accept to its last decision) and the CPU of every process (web,
   worker, beat, PostgreSQL, Redis) until the last ticket was routed. The peer routes nothing: its
   end to end is its creation;
6. with --sustain S (issue 17's "sustained routing ≥ 2× the peer's creation rate, p99 ≤ 2 s at that
   rate"), then offers ours tickets open loop for S seconds at --sustain-x (2) times the peer's
   tickets/s at the highest level: each ticket is sent when it is due, whatever the server is doing,
   and its latency counts from then; the end to end is read as in 5;
7. prints a table and appends one JSON line per (system, level) to bench/intake/results.jsonl.

`--hold-routing SECONDS` (with `--only ours` and one level) is a diagnosis: no beat, and the routing
wake-up sent that many seconds after the level's first accept, so a shorter burst is accepted with
nothing routed beside it: the accept's own ceiling on this machine.

"server CPU ms/ticket" is user+sys time of the server's process tree (ours: uvicorn workers,
Celery worker and beat; peer: gunicorn) plus the private PostgreSQL and Redis, divided by the
tickets created. The measurement helpers (CPU from /proc, percentiles) are the peer's own
loadgen.py, imported from the shared folder. Everything listens on 127.0.0.1 only; each level is
bounded by --n and --max-seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import importlib.util
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("HOTLINE_SHARED", REPO.parent / "shared"))
if not SHARED.exists():
    SHARED = Path("/work/shared")
PEER_DIR = SHARED / "bench" / "peer-helpdesk"
DATA_DIR = SHARED / "data"
PEER_ROOT = Path(os.environ.get("PEER_ROOT", "/tmp/peer/helpdesk"))
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
RESULTS = REPO / "bench" / "intake" / "results.jsonl"
VENV_BIN = Path(sys.executable).parent

sys.dont_write_bytecode = True  # the shared folder may be read-only
_spec = importlib.util.spec_from_file_location("peer_loadgen", PEER_DIR / "loadgen.py")
assert _spec and _spec.loader
loadgen: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(loadgen)


# ------------------------------------------------------------------------------ data
def citizen_messages(seed: int) -> list[tuple[str, str]]:
    """(title, text) pairs of 100–300 characters from the shared citizen-message data sets."""
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    for path in sorted(DATA_DIR.glob("*/*.csv")):
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                text = " ".join((row.get("text") or "").split())
                if not 100 <= len(text) <= 300 or text in seen:
                    continue
                seen.add(text)
                title = text.split("。", 1)[0][:60]
                out.append((title, text))
    if not out:
        sys.exit(f"no citizen messages of 100-300 characters under {DATA_DIR}")
    random.Random(seed).shuffle(out)
    return out


def payloads_for(system: str, messages: list[tuple[str, str]], n: int, seed: int, queues: list[int]) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        title, text = messages[i % len(messages)]
        if system == "peer":
            out.append(
                {
                    "queue": rng.choice(queues),
                    "title": title,
                    "description": text,
                    "submitter_email": f"user{rng.randint(1, 500)}@example.com",
                    "priority": rng.randint(1, 5),
                }
            )
        else:
            out.append(
                {
                    "channel": "phone",
                    "title": title,
                    "text": text,
                    "citizen_phone": f"139{rng.randint(10_000_000, 99_999_999)}",
                }
            )
    return out


# ------------------------------------------------------------------------------ processes
def run(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kw)


def as_postgres(cmd: str) -> None:
    run(["su", "postgres", "-c", cmd], stdout=subprocess.DEVNULL)


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def wait_http(url: str, headers: dict[str, str], timeout: float = 90) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as r:
                if r.status < 500:
                    return
        except Exception:
            time.sleep(0.5)
    sys.exit(f"server at {url} did not come up")


class PrivatePostgres:
    def __init__(self, port: int, *, statements: bool = False) -> None:
        self.port = port
        self.statements = statements  # load pg_stat_statements (diagnosis: --pg-stat)
        self.dir = Path(tempfile.mkdtemp(prefix="intake-bench-pg-"))
        shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"

    def start(self) -> int:
        as_postgres(f"{PG_BIN}/initdb -D {self.data} -A trust -U postgres -E UTF8 --locale=C.UTF-8")
        as_postgres(
            f"{PG_BIN}/pg_ctl -D {self.data} -l {self.dir}/log -w "
            f"-o '-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200"
            + (" -c shared_preload_libraries=pg_stat_statements" if self.statements else "")
            + "' start"
        )
        return self.pid()

    def pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def sql(self, statement: str) -> None:
        run([str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-qc", statement])

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            as_postgres(f"{PG_BIN}/pg_ctl -D {self.data} -m fast -w stop")
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis:
    def __init__(self, port: int) -> None:
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="intake-bench-redis-"))

    def start(self) -> int:
        run(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "yes",
                "--dir",
                str(self.dir),
                "--pidfile",
                str(self.dir / "redis.pid"),
            ]
        )
        for _ in range(50):
            if (self.dir / "redis.pid").exists():
                return int((self.dir / "redis.pid").read_text())
            time.sleep(0.1)
        sys.exit("private redis did not start")

    def stop(self) -> None:
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown", "nosave"], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def peer_setup(pg: PrivatePostgres) -> tuple[dict[str, str], str, list[int]]:
    """The peer, set up by its own script, migrated into the private PostgreSQL."""
    run(["bash", str(PEER_DIR / "setup.sh")], env={**os.environ, "SKIP_PG": "1"}, stdout=subprocess.DEVNULL)
    pg.sql("CREATE ROLE helpdesk_peer LOGIN PASSWORD 'helpdesk_peer'")
    pg.sql("CREATE DATABASE helpdesk_peer OWNER helpdesk_peer ENCODING 'UTF8' TEMPLATE template0")
    env = {**os.environ, "PEER_DB": "postgres", "PEER_DATA": str(PEER_ROOT / "data"), "PEER_PG_PORT": str(pg.port)}
    py = str(PEER_ROOT / "venv" / "bin" / "python")
    site = PEER_ROOT / "site"
    run([py, "manage.py", "migrate", "-v0"], cwd=site, env=env)
    creds_file = PEER_ROOT / "creds-bench.json"
    run(
        [py, str(PEER_DIR / "bootstrap.py"), "--reset-tickets", "--out", str(creds_file)],
        cwd=site,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    creds = json.loads(creds_file.read_text())
    return env, creds["token"], [int(q) for q in creds["queues"]]


def peer_start(env: dict[str, str], port: int) -> subprocess.Popen:
    """gunicorn exactly as the peer's serve.sh runs it, but in the foreground so we own its pid."""
    cmd = [
        str(PEER_ROOT / "venv" / "bin" / "gunicorn"),
        "peer.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--worker-class",
        "sync",
        "--timeout",
        "120",
        "--backlog",
        "2048",
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(
        cmd,
        cwd=PEER_ROOT / "site",
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=(PEER_ROOT / "gunicorn-bench.log").open("w"),
    )


def ours_setup(database_url: str, redis_url: str, var_dir: Path) -> tuple[dict[str, str], str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "HOTLINE_VAR_DIR": str(var_dir),
        "DJANGO_DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PYTHONPATH": str(REPO),
    }
    py = str(VENV_BIN / "python")
    for args in (["migrate", "--noinput", "-v0"], ["ensure_default_model"], ["seed_demo"]):
        run([py, "manage.py", *args], cwd=REPO, env=env, stdout=subprocess.DEVNULL)
    token = (
        subprocess.run(
            [
                py,
                "manage.py",
                "shell",
                "-c",
                "from tickets.accounts.services import api_token_issue; from tickets.models import User;"
                "u = User.objects.filter(role='operator', is_active=True).order_by('id').first();"
                "print(api_token_issue(user=u)[0])",
            ],
            cwd=REPO,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    return env, token


def ours_start(env: dict[str, str], port: int, var_dir: Path, hold_routing: float = 0) -> subprocess.Popen:
    """The production Procfile under honcho: web (uvicorn, 2 workers), Celery worker and beat.

    With `hold_routing` (diagnosis, not a way to run): no beat, and each web process sends its
    routing wake-up that many seconds after its first accept instead of 0.1 s, so that a burst
    shorter than that is accepted with no routing beside it (the accept's upper bound)."""
    (REPO / "var").mkdir(exist_ok=True)
    env = {**env, "HOST": "127.0.0.1", "PORT": str(port), "PATH": f"{VENV_BIN}:{env.get('PATH', '')}"}
    names: list[str] = []
    if hold_routing:
        env["HOTLINE_ROUTING_WAKE_DELAY"] = str(hold_routing)
        names = ["web", "worker"]
    return subprocess.Popen(
        [str(VENV_BIN / "honcho"), "start", "-f", "Procfile", *names],
        cwd=REPO,
        env=env,
        start_new_session=True,
        stdout=(var_dir / "honcho.log").open("w"),
        stderr=subprocess.STDOUT,
    )


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the group we started ourselves
            proc.wait(10)


# ------------------------------------------------------------------------------ load
class Tally:
    """What the load generator saw: each created ticket's latency, the errors and their first samples."""

    def __init__(self) -> None:
        self.lat: list[float] = []
        self.sent: list[tuple[float, float]] = []  # (send time, latency): where in the level the tail lies
        self.errors = 0
        self.samples: list[str] = []
        self.statuses: dict[str, int] = {}

    async def post(self, session: Any, url: str, payload: dict, since: float) -> None:
        """One ticket; its latency counts from `since` (perf_counter)."""
        try:
            async with session.post(url, json=payload) as r:
                body = await r.read()
                self.statuses[str(r.status)] = self.statuses.get(str(r.status), 0) + 1
                if r.status == 201:
                    self.lat.append(time.perf_counter() - since)
                    self.sent.append((since, self.lat[-1]))
                    return
                self.errors += 1
                if len(self.samples) < 3:
                    self.samples.append(f"HTTP {r.status}: {body[:200]!r}")
        except Exception as exc:
            self.errors += 1
            self.statuses["exc"] = self.statuses.get("exc", 0) + 1
            if len(self.samples) < 3:
                self.samples.append(repr(exc)[:200])

    async def measure(self, run: Any, cpu_pids: list[int]) -> dict[str, Any]:
        """Await `run` (the load) and summarise it with the CPU the processes spent meanwhile."""
        cpu0 = [loadgen.cpu_seconds(p) for p in cpu_pids]
        client0 = time.process_time()
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        await run
        wall = time.perf_counter() - t0
        cpu = [loadgen.cpu_seconds(p) - before for p, before in zip(cpu_pids, cpu0, strict=True)]
        client = time.process_time() - client0
        lat = sorted(self.lat)
        ok = len(lat)
        return {
            "timeline": self.timeline(t0, wall),
            "ok": ok,
            "errors": self.errors,
            "statuses": self.statuses,
            "wall_s": round(wall, 3),
            "tickets_per_s": round(ok / wall, 2) if wall else None,
            "lat_ms": {
                "mean": round(1000 * statistics.fmean(lat), 2) if lat else None,
                "p50": round(1000 * loadgen.pct(lat, 50), 2),
                "p95": round(1000 * loadgen.pct(lat, 95), 2),
                "p99": round(1000 * loadgen.pct(lat, 99), 2),
                "max": round(1000 * lat[-1], 2) if lat else None,
            },
            "server_cpu_s": [round(x, 2) for x in cpu],
            "server_cpu_ms_per_ticket": round(1000 * sum(cpu) / ok, 2) if ok else None,
            "client_cpu_s": round(client, 2),
            "loadavg_1m_at_start": round(load0, 2),
            "error_samples": self.samples,
        }

    def timeline(self, t0: float, wall: float, slices: int = 8) -> list[dict[str, Any]]:
        """The level cut into equal slices of wall time by send time: tickets, p50 and p99 in each."""
        width = wall / slices if wall else 1.0
        out = []
        for k in range(slices):
            lat = sorted(x for since, x in self.sent if k * width <= since - t0 < (k + 1) * width)
            if lat:
                out.append(
                    {
                        "from_s": round(k * width, 2),
                        "n": len(lat),
                        "p50": round(1000 * loadgen.pct(lat, 50), 1),
                        "p99": round(1000 * loadgen.pct(lat, 99), 1),
                        "max": round(1000 * lat[-1], 1),
                    }
                )
        return out


def _session(auth: str, limit: int) -> Any:
    import aiohttp

    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=limit),
        headers={"Accept": "application/json", "Authorization": auth},
        timeout=aiohttp.ClientTimeout(total=60),
    )


async def load(
    url: str, auth: str, payloads: list[dict], c: int, max_seconds: float, cpu_pids: list[int]
) -> dict[str, Any]:
    """Closed loop: c clients, each sending its next ticket when the last one was answered."""
    loadgen.ensure_loopback(url)
    tally = Tally()
    next_i = 0
    deadline = time.monotonic() + max_seconds
    async with _session(auth, c) as session:

        async def client() -> None:
            nonlocal next_i
            while next_i < len(payloads) and time.monotonic() < deadline:
                i = next_i
                next_i += 1
                await tally.post(session, url, payloads[i], time.perf_counter())

        return {"concurrency": c} | await tally.measure(asyncio.gather(*(client() for _ in range(c))), cpu_pids)


async def load_open(url: str, auth: str, payloads: list[dict], rate: float, cpu_pids: list[int]) -> dict[str, Any]:
    """Open loop: ticket i is sent at start + i / rate whether or not earlier ones were answered (a
    surge arrives at its own pace, not at the server's). A ticket's latency counts from the moment
    it was due, so a server that falls behind is charged for the wait (no coordinated omission)."""
    loadgen.ensure_loopback(url)
    tally = Tally()
    async with _session(auth, 256) as session:
        start = time.perf_counter() + 0.05  # every ticket's task made before the first is due

        async def one(i: int) -> None:
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            await tally.post(session, url, payloads[i], due)

        summary = await tally.measure(asyncio.gather(*(one(i) for i in range(len(payloads)))), cpu_pids)
    return {"concurrency": "open", "offered_per_s": round(rate, 2)} | summary


# ------------------------------------------------------------------------------ main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000, help="tickets per system and level")
    ap.add_argument("--levels", default="1,8,32,128")
    ap.add_argument("--max-seconds", type=float, default=180, help="cap per system and level")
    ap.add_argument("--warmup", type=int, default=60, help="untimed tickets per system before measuring")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pg-port", type=int, default=5447)
    ap.add_argument("--redis-port", type=int, default=6447)
    ap.add_argument("--peer-port", type=int, default=8801)
    ap.add_argument("--ours-port", type=int, default=8811)
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--only", choices=["ours", "peer"], help="measure one side only (diagnosis)")
    ap.add_argument("--pg-stat", action="store_true", help="print ours' top statements by PostgreSQL time (diagnosis)")
    ap.add_argument(
        "--sustain",
        type=float,
        default=0,
        help="then offer ours tickets at a fixed rate for this many seconds (0: off): --sustain-x times "
        "the peer's tickets/s at the highest level, the end-to-end goal's 'at that rate'",
    )
    ap.add_argument("--sustain-x", type=float, default=2.0, help="the sustained rate as a multiple of the peer's")
    ap.add_argument("--sustain-rate", type=float, help="a fixed sustained rate in tickets/s instead (diagnosis)")
    ap.add_argument(
        "--hold-routing",
        type=float,
        default=0,
        metavar="SECONDS",
        help="route nothing until SECONDS after a level's first accept, and no beat (diagnosis: the accept "
        "with no routing beside it; needs --only ours and one level)",
    )
    a = ap.parse_args()
    levels = [int(x) for x in a.levels.split(",")]
    if a.n < 1 or any(c < 1 for c in levels):
        ap.error("--n and every level must be positive")
    if a.sustain < 0 or a.sustain_x <= 0 or (a.sustain_rate or 1) <= 0:
        ap.error("--sustain, --sustain-x and --sustain-rate must be positive")
    if a.sustain and a.only and not a.sustain_rate:
        ap.error("--sustain without --sustain-rate needs both systems: its rate is the peer's")
    if a.hold_routing and (a.hold_routing < 0 or a.only != "ours" or len(levels) != 1 or a.sustain):
        ap.error("--hold-routing diagnoses one level of ours: positive, --only ours, one level, no --sustain")
    for port in (a.pg_port, a.redis_port, a.peer_port, a.ours_port):
        if not port_free(port):
            sys.exit(f"port {port} is in use")
    messages = citizen_messages(a.seed)
    print(f"{len(messages)} citizen messages of 100-300 characters from {DATA_DIR}", flush=True)

    run_id = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    pg, redis = PrivatePostgres(a.pg_port, statements=a.pg_stat), PrivateRedis(a.redis_port)
    var_dir = Path(tempfile.mkdtemp(prefix="intake-bench-var-"))
    procs: list[subprocess.Popen] = []
    results: list[dict[str, Any]] = []
    try:
        pg_pid, redis_pid = pg.start(), redis.start()
        systems: dict[str, dict[str, Any]] = {}
        if a.only != "ours":
            print("==> peer: setup (django-helpdesk)", flush=True)
            penv, ptoken, queues = peer_setup(pg)
            proc = peer_start(penv, a.peer_port)
            procs.append(proc)
            auth = f"Token {ptoken}"
            wait_http(f"http://127.0.0.1:{a.peer_port}/api/", {"Authorization": auth})
            systems["peer"] = {
                "url": f"http://127.0.0.1:{a.peer_port}/api/tickets/",
                "auth": auth,
                "pids": [proc.pid, pg_pid],
                "queues": queues,
            }
        if a.only != "peer":
            print("==> ours: migrate, demo model, demo city", flush=True)
            pg.sql("CREATE DATABASE hotline_bench ENCODING 'UTF8' TEMPLATE template0")
            oenv, otoken = ours_setup(
                f"postgres://postgres@127.0.0.1:{a.pg_port}/hotline_bench",
                f"redis://127.0.0.1:{a.redis_port}/0",
                var_dir,
            )
            proc = ours_start(oenv, a.ours_port, var_dir, a.hold_routing)
            procs.append(proc)
            if a.pg_stat:
                run([str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(a.pg_port), "-U", "postgres", "-d",
                     "hotline_bench", "-qc", "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"])  # fmt: skip
            auth = f"Token {otoken}"
            wait_http(f"http://127.0.0.1:{a.ours_port}/api/tickets/?limit=1", {"Authorization": auth})
            systems["ours"] = {
                "url": f"http://127.0.0.1:{a.ours_port}/api/tickets/",
                "auth": auth,
                "pids": [proc.pid, pg_pid, redis_pid],
                "queues": [],
            }

        for name, s in systems.items():  # warm both workers of each server (model load, caches)
            warm = payloads_for(name, messages[::-1], a.warmup, a.seed + 7, s["queues"] or [1])
            r = asyncio.run(load(s["url"], s["auth"], warm, 4, 60, []))
            print(f"    warm-up {name}: {r['ok']} ok, {r['errors']} errors {r['error_samples']}", flush=True)
            if name == "ours" and a.hold_routing:  # its held wake-up must not land inside the level
                with _db(a.pg_port) as db:
                    if routing_wait(db, 0, a.hold_routing + 60):
                        sys.exit("the warm-up's tickets were not routed")

        offset = 0
        for c in levels:
            for name, s in systems.items():
                msgs = messages[offset:] + messages[:offset]
                payloads = payloads_for(name, msgs, a.n, a.seed + c, s["queues"] or [1])
                time.sleep(2)  # let the previous run's Celery work settle
                before = last_ticket_id(a.pg_port) if name == "ours" else 0
                cpu0 = [loadgen.cpu_seconds(p) for p in s["pids"]]
                r = asyncio.run(load(s["url"], s["auth"], payloads, c, a.max_seconds, s["pids"]))
                if name == "ours":
                    r["end_to_end"] = end_to_end(a.pg_port, before, s["pids"], cpu0)
                r |= {
                    "run": run_id,
                    **({"hold_routing_s": a.hold_routing} if a.hold_routing else {}),
                    "system": name,
                    "n": a.n,
                    "cpu_of": "server tree, postgres" + (", redis" if name == "ours" else ""),
                }
                results.append(r)
                lat = r["lat_ms"]
                print(
                    f"    {name:4} C={c:<3} {r['tickets_per_s']:>7} t/s  p50 {lat['p50']:>7} p95 {lat['p95']:>7} "
                    f"p99 {lat['p99']:>7} ms  errors {r['errors']}  cpu {r['server_cpu_ms_per_ticket']} ms/t",
                    flush=True,
                )
                if "end_to_end" in r:
                    e = r["end_to_end"]
                    print(
                        f"         end to end: {e['routed']} routed at {e['routed_per_s']} t/s, accept→decision "
                        f"p50 {e['p50_ms']} p99 {e['p99_ms']} ms, all-process cpu {e['cpu_ms_per_ticket']} ms/t",
                        flush=True,
                    )
                with a.out.open("a") as f:
                    f.write(json.dumps(r, ensure_ascii=False) + "\n")
            offset += a.n
        if a.sustain:
            peer_rate = next(
                (r["tickets_per_s"] for r in results if r["system"] == "peer" and r["concurrency"] == levels[-1]), None
            )
            rate = a.sustain_rate or a.sustain_x * peer_rate
            s = systems["ours"]
            payloads = payloads_for(
                "ours", messages[offset:] + messages[:offset], int(rate * a.sustain), a.seed + 99, [1]
            )
            time.sleep(2)
            before = last_ticket_id(a.pg_port)
            cpu0 = [loadgen.cpu_seconds(p) for p in s["pids"]]
            r = asyncio.run(load_open(s["url"], s["auth"], payloads, rate, s["pids"]))
            r["end_to_end"] = end_to_end(a.pg_port, before, s["pids"], cpu0)
            r |= {"run": run_id, "system": "ours", "n": len(payloads), "peer_tickets_per_s": peer_rate,
                  "sustain_x": round(rate / peer_rate, 2) if peer_rate else None,
                  "cpu_of": "server tree, postgres, redis"}  # fmt: skip
            results.append(r)
            e, lat = r["end_to_end"], r["lat_ms"]
            print(
                f"    ours sustained {rate:.1f} t/s "
                + (f"({rate / peer_rate:.2f}× the peer's C={levels[-1]}) " if peer_rate else "")
                + f"for {a.sustain:.0f} s: "
                f"accepted {r['tickets_per_s']} t/s, accept p50 {lat['p50']} p99 {lat['p99']} ms, "
                f"errors {r['errors']}; "
                f"routed {e['routed']} at {e['routed_per_s']} t/s, accept→decision p50 {e['p50_ms']} "
                f"p99 {e['p99_ms']} ms, all-process cpu {e['cpu_ms_per_ticket']} ms/t",
                flush=True,
            )
            with a.out.open("a") as f:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        if a.pg_stat and "ours" in systems:
            top = (
                "SELECT calls, round(total_exec_time::numeric, 1) AS ms, round(mean_exec_time::numeric, 3) AS mean, "
                "left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS query FROM pg_stat_statements "
                "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'hotline_bench') "
                "ORDER BY total_exec_time DESC LIMIT 25"
            )
            run([str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(a.pg_port), "-U", "postgres", "-d",
                 "hotline_bench", "-c", top])  # fmt: skip
    finally:
        for proc in reversed(procs):
            stop(proc)
        redis.stop()
        pg.stop()
        shutil.rmtree(var_dir, ignore_errors=True)
    print_table(results)


def _db(port: int) -> Any:
    import psycopg

    return psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/hotline_bench", autocommit=True)


def last_ticket_id(port: int) -> int:
    with _db(port) as db:
        return int(db.execute("SELECT coalesce(max(id), 0) FROM tickets_ticket").fetchone()[0])


def routing_wait(db: Any, after_id: int, timeout: float) -> int:
    """Wait until no ticket after `after_id` waits in ours' routing queue, or `timeout` passes: how many still wait."""
    deadline = time.monotonic() + timeout
    while True:
        waiting = int(
            db.execute(
                "SELECT count(*) FROM tickets_ticket WHERE id > %s AND route_state <> ''", [after_id]
            ).fetchone()[0]
        )
        if not waiting or time.monotonic() >= deadline:
            return waiting
        time.sleep(0.05)


def end_to_end(port: int, after_id: int, pids: list[int], cpu0: list[float], timeout: float = 300) -> dict[str, Any]:
    """Wait until every ticket accepted in this level is routed; accept → decision from the database."""
    with _db(port) as db:
        unrouted = routing_wait(db, after_id, timeout)
        cpu = [loadgen.cpu_seconds(p) - before for p, before in zip(pids, cpu0, strict=True)]
        rows = db.execute(
            "SELECT extract(epoch FROM t.created_at), extract(epoch FROM e.created_at) FROM tickets_ticket t "
            "JOIN tickets_ticketevent e ON e.ticket_id = t.id AND e.action IN ('dispatch', 'await_dispatch') "
            "WHERE t.id > %s",
            [after_id],
        ).fetchall()
    spans = sorted(float(done) - float(accepted) for accepted, done in rows)
    first = min((float(a) for a, _ in rows), default=0.0)
    last = max((float(d) for _, d in rows), default=0.0)
    routed = len(rows)
    return {
        "routed": routed,
        "unrouted": unrouted,
        "routed_per_s": round(routed / (last - first), 2) if last > first else None,
        "p50_ms": round(1000 * loadgen.pct(spans, 50), 1) if spans else None,
        "p99_ms": round(1000 * loadgen.pct(spans, 99), 1) if spans else None,
        "cpu_s": [round(x, 2) for x in cpu],
        "cpu_ms_per_ticket": round(1000 * sum(cpu) / routed, 2) if routed else None,
    }


def print_table(results: list[dict[str, Any]]) -> None:
    results = [r for r in results if r["concurrency"] != "open"]  # printed as its own line
    by = {(r["system"], r["concurrency"]): r for r in results}
    print("\n| C | system | tickets/s | p50 ms | p95 ms | p99 ms | errors | server CPU ms/ticket | ours ÷ peer |")
    print("|---|---|---|---|---|---|---|---|---|")
    for c in sorted({r["concurrency"] for r in results}):
        for name in ("peer", "ours"):
            r = by.get((name, c))
            if r is None:
                continue
            peer = by.get(("peer", c))
            ratio = ""
            if name == "ours" and peer and peer["tickets_per_s"]:
                ratio = f"{r['tickets_per_s'] / peer['tickets_per_s']:.2f}×"
            lat = r["lat_ms"]
            print(
                f"| {c} | {name} | {r['tickets_per_s']} | {lat['p50']} | {lat['p95']} | {lat['p99']} | "
                f"{r['errors']} | {r['server_cpu_ms_per_ticket']} | {ratio} |"
            )
    ends = [r for r in results if "end_to_end" in r]
    if not ends:
        return
    print("\n| C | ours routed/s | ÷ peer created/s | accept→decision p50 ms | p99 ms | all-process CPU ms/ticket "
          "(to the last routed) | ÷ peer CPU |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for r in ends:
        e, peer = r["end_to_end"], by.get(("peer", r["concurrency"]))
        rate = f"{e['routed_per_s'] / peer['tickets_per_s']:.2f}×" if peer and e["routed_per_s"] else ""
        cpu = (
            f"{e['cpu_ms_per_ticket'] / peer['server_cpu_ms_per_ticket']:.2f}×"
            if peer and e["cpu_ms_per_ticket"] and peer["server_cpu_ms_per_ticket"]
            else ""
        )
        print(f"| {r['concurrency']} | {e['routed_per_s']} | {rate} | {e['p50_ms']} | {e['p99_ms']} | "
              f"{e['cpu_ms_per_ticket']} | {cpu} |")  # fmt: skip


if __name__ == "__main__":
    main()
