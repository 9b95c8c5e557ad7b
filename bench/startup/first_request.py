"""How long the production web server takes to answer: from `python -m hotline.serve` to each
worker's first 200, a killed worker's replacement, and each worker's first ticket.

    .venv/bin/python -m bench.startup.first_request --runs 5                # embedded (SQLite)
    .venv/bin/python -m bench.startup.first_request --runs 5 --repo /path/to/other/checkout
    DATABASE_URL=postgres://… REDIS_URL=redis://… .venv/bin/python -m bench.startup.first_request --runs 5

Set-up, untimed, once per invocation: a private var folder (SQLite file, secret key, classifier
models), `migrate`, `ensure_default_model`, `seed_demo` and an API token for operator1. Then, per run:

1. start `python -m hotline.serve --workers W` and poll with fresh connections from 4 threads;
   a 200 on `GET /login/` (a cheap page) is attributed to the worker whose process holds the
   server side of the connection (/proc/net/tcp + /proc/<pid>/fd), so "worker first 200" is per
   worker, even while another worker is still starting;
2. on the same keep-alive connection, right after a worker's first 200, `POST /api/tickets/` (a
   citizen message, classifier + routing + duplicates) twice: that worker's first ticket, and a
   second one as the warm baseline;
3. SIGKILL one worker and time until its replacement answered a 200 (the supervisor restarts it).

Prints one line per run and the medians.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PAGE = "/login/"
POLLERS = 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    found = []
    for child in map(int, out):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"resource_tracker" not in cmdline:
            found.append(child)
    return found


def owner(server_pid: int, port: int, client_port: int) -> int | None:
    """The worker holding the accepted side of our connection (client_port → port)."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and int(fields[2].split(":")[1], 16) == client_port:
            inode = fields[9]
    if not inode or inode == "0":
        return None
    for child in children(server_pid):
        try:
            if any(str(fd.readlink()) == f"socket:[{inode}]" for fd in Path(f"/proc/{child}/fd").iterdir()):
                return child
        except OSError:
            continue
    return None


def manage(env: dict[str, str], *args: str) -> str:
    run = subprocess.run([sys.executable, "manage.py", *args], cwd=env["BENCH_REPO"], env=env, capture_output=True,
                         text=True)  # fmt: skip
    if run.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{run.stdout}\n{run.stderr}")
    return run.stdout


class Run:
    """One server start: first 200 and first ticket per worker, then one worker killed and replaced."""

    def __init__(self, env: dict[str, str], workers: int, token: str) -> None:
        self.env, self.workers, self.token = env, workers, token
        self.port = free_port()
        self.first_ok: dict[int, float] = {}  # worker pid → seconds since the clock's zero
        self.first_ticket: dict[int, float] = {}  # worker pid → seconds the first POST took
        self.second_ticket: dict[int, float] = {}
        self.lock = threading.Lock()
        self.zero = 0.0
        self.server: subprocess.Popen[bytes] | None = None

    def _probe(self, wanted: set[int] | None) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        try:
            conn.connect()
        except OSError:
            time.sleep(0.02)
            return
        try:
            conn.request("GET", PAGE)
            response = conn.getresponse()
            response.read()
            at = time.monotonic() - self.zero
            assert self.server is not None
            worker = owner(self.server.pid, self.port, conn.sock.getsockname()[1])
            if response.status != 200 or worker is None or (wanted is not None and worker not in wanted):
                return
            with self.lock:
                if worker in self.first_ok:
                    return
                self.first_ok[worker] = at
            self.first_ticket[worker] = self._ticket(conn)
            self.second_ticket[worker] = self._ticket(conn)  # the same worker, warm: the baseline
        except (OSError, http.client.HTTPException):
            time.sleep(0.02)
        finally:
            conn.close()

    def _ticket(self, conn: http.client.HTTPConnection) -> float:
        body = json.dumps({
            "text": "公司拖欠三个月工资，老板一直不露面，请求劳动监察部门帮助追讨",
            "kind": "help",
            "citizen_phone": f"1381{random.randrange(10**7):07d}",
        })  # fmt: skip
        headers = {"Authorization": f"Token {self.token}", "Content-Type": "application/json"}
        started = time.monotonic()
        conn.request("POST", "/api/tickets/", body=body, headers=headers)
        response = conn.getresponse()
        text = response.read()
        if response.status != 201:
            raise SystemExit(f"intake answered {response.status}: {text[:300]!r}")
        return time.monotonic() - started

    def _poll_until(self, done: threading.Event, wanted: set[int] | None = None) -> None:
        def loop() -> None:
            while not done.is_set():
                self._probe(wanted)
                assert self.server is not None
                if self.server.poll() is not None:
                    done.set()

        threads = [threading.Thread(target=loop) for _ in range(POLLERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def measure(self) -> dict[str, float]:
        argv = [sys.executable, "-m", "hotline.serve", "--host", "127.0.0.1", "--port", str(self.port)]
        argv += ["--workers", str(self.workers), "--timeout-graceful-shutdown", "2"]
        self.zero = time.monotonic()
        self.server = subprocess.Popen(argv, cwd=self.env["BENCH_REPO"], env=self.env, stderr=subprocess.DEVNULL)
        done = threading.Event()
        watcher = threading.Thread(target=self._watch_all, args=(done,))
        watcher.start()
        self._poll_until(done)
        watcher.join()
        if len(self.first_ok) < self.workers:
            raise SystemExit(f"server exited ({self.server.returncode}) before every worker answered")
        times = sorted(self.first_ok.values())
        result = {"first_200": times[0], "all_workers_200": times[-1]}
        result["first_ticket_ms"] = 1000 * max(self.first_ticket.values())
        result["second_ticket_ms"] = 1000 * max(self.second_ticket.values())

        # A worker killed outright: time until its replacement (a new pid) answered.
        victim = next(iter(self.first_ok))
        before = set(children(self.server.pid))
        self.zero = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        self.first_ok.clear()
        self.first_ticket.clear()
        self.second_ticket.clear()
        done = threading.Event()
        watcher = threading.Thread(target=self._watch_new, args=(done, before))
        watcher.start()
        self._poll_until(done, wanted=None)
        watcher.join()
        replacement = [pid for pid in self.first_ok if pid not in before]
        result["replaced_worker_200"] = self.first_ok[replacement[0]] if replacement else float("nan")
        self.server.send_signal(signal.SIGTERM)
        self.server.wait(timeout=60)
        return result

    def _watch_all(self, done: threading.Event) -> None:
        while not done.is_set():
            with self.lock:
                if len(self.first_ok) >= self.workers:
                    done.set()
            time.sleep(0.01)

    def _watch_new(self, done: threading.Event, before: set[int]) -> None:
        while not done.is_set():
            with self.lock:
                if any(pid not in before for pid in self.first_ok):
                    done.set()
            time.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repo", type=Path, default=REPO, help="the checkout to start (default: this one)")
    args = parser.parse_args()

    var = Path(tempfile.mkdtemp(prefix="hotline-bench-startup-"))
    env = {**os.environ, "HOTLINE_VAR_DIR": str(var), "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "WARNING"}
    env["BENCH_REPO"] = str(args.repo)
    env.pop("CLASSIFIER_MODEL_DIR", None)
    env.pop("HOTLINE_EMBEDDED_SCHEDULER", None)
    mode = "production (PostgreSQL + Redis)" if env.get("REDIS_URL") else "embedded (SQLite)"
    print(f"{args.repo}, set-up ({mode}): migrate, default model, demo city …", flush=True)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "ensure_default_model")
    manage(env, "seed_demo")
    token = manage(env, "drf_create_token", "operator1").split()[2]

    load = Path("/proc/loadavg").read_text().split()[0]
    print(f"load average {load}; {args.workers} workers; {args.runs} runs; seconds from process start")
    rows = []
    for number in range(1, args.runs + 1):
        row = Run(env, args.workers, token).measure()
        rows.append(row)
        print(
            f"run {number}: first 200 {row['first_200']:.2f} s, every worker 200 {row['all_workers_200']:.2f} s, "
            f"slowest first ticket {row['first_ticket_ms']:.0f} ms (second {row['second_ticket_ms']:.0f} ms), "
            f"killed worker replaced and answering "
            f"{row['replaced_worker_200']:.2f} s",
            flush=True,
        )
    load = Path("/proc/loadavg").read_text().split()[0]
    median = {key: statistics.median(row[key] for row in rows) for key in rows[0]}
    print(
        f"median of {args.runs} (load {load} at the end): first 200 {median['first_200']:.2f} s, "
        f"every worker 200 {median['all_workers_200']:.2f} s, first ticket {median['first_ticket_ms']:.0f} ms "
        f"(second {median['second_ticket_ms']:.0f} ms), "
        f"replaced worker {median['replaced_worker_200']:.2f} s"
    )


if __name__ == "__main__":
    main()
