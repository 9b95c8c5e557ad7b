"""Fault and scale-out drills: real servers started and stopped by the test.

Each drill starts what it needs — a private redis-server on a free port (never the shared one),
uvicorn, Celery workers and beats as separate processes — pointed at this test's PostgreSQL
database, and stops only what it started. Run them alone with `pytest -m drill`.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import pytest
from django.db import connection

from tests.readiness import STARTUP_CAP_SECONDS, free_port, wait_http_ready, wait_until

__all__ = ["free_port", "wait_until"]  # imported from here by the drills

REPO = Path(__file__).resolve().parents[2]
DATABASE_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = DATABASE_URL.startswith("postgres")
HAVE_REDIS_SERVER = shutil.which("redis-server") is not None

needs_servers = pytest.mark.skipif(
    not (ON_POSTGRES and HAVE_REDIS_SERVER),
    reason="drill needs DATABASE_URL (PostgreSQL: processes share the test database) and redis-server",
)


class RedisServer:
    """A private redis-server (no persistence, like a cache node that restarts empty)."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(self.ping, timeout=STARTUP_CAP_SECONDS, what=f"redis-server on {self.port}")

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def client(self) -> Any:
        import redis

        return redis.Redis(port=self.port)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def drill_database_url() -> str:
    """DATABASE_URL pointing at pytest-django's test database (rows committed by the test are shared).

    Embedded (no DATABASE_URL), the test database is SQLite in memory, which no other process can
    open: the servers get an empty one of their own (SQLite in their HOTLINE_VAR_DIR), enough for
    the drills that need no shared rows (the others are skipped without PostgreSQL).
    """
    if not ON_POSTGRES:
        return ""
    return urlunparse(urlparse(DATABASE_URL)._replace(path=f"/{connection.settings_dict['NAME']}"))


class Processes:
    """Child processes of one drill, each in its own process group, logs in tmp files."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, Path] = {}

    def env(self, *, redis_url: str, database_url: str | None = None, **extra: str) -> dict[str, str]:
        env = {
            **os.environ,
            "DATABASE_URL": database_url or drill_database_url(),
            "REDIS_URL": redis_url,
            "DJANGO_SETTINGS_MODULE": "tests.drills.settings_drill",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "HOTLINE_EMBEDDED_SCHEDULER": "0",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        if not env["DATABASE_URL"]:
            env["HOTLINE_VAR_DIR"] = str(self.tmp_path / "var")  # embedded: an SQLite file of the drill's own
        env.update(extra)
        return env

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = self.tmp_path / f"{name}.log"
        self.logs[name] = log
        proc = subprocess.Popen(
            argv,
            cwd=REPO,
            env=env,
            stdout=log.open("ab"),  # a file, not a pipe: a full pipe would stall the child
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        return self.logs[name].read_text(errors="replace") if name in self.logs else ""

    def uvicorn(self, name: str, env: dict[str, str], *, workers: int = 1, probe: str = "/readyz") -> str:
        port = free_port()
        self.start(
            name,
            [sys.executable, "-m", "uvicorn", "hotline.asgi:application", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(workers), "--timeout-graceful-shutdown", "3", "--log-level", "warning"],
            env,
        )  # fmt: skip
        base = f"127.0.0.1:{port}"
        wait_http_ready(f"http://{base}", self.procs[name], self.logs[name], probe=probe)
        return base

    def serve(self, name: str, env: dict[str, str], *, workers: int) -> tuple[subprocess.Popen[bytes], str]:
        """`python -m hotline.serve` (Procfile, systemd), once every worker said it is ready."""
        port = free_port()
        proc = self.start(
            name,
            [sys.executable, "-m", "hotline.serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(workers), "--timeout-graceful-shutdown", "3"],
            env,
        )  # fmt: skip
        self.wait_serving(name, workers)
        return proc, f"127.0.0.1:{port}"

    def serving_workers(self, name: str) -> set[int]:
        """Workers of a hotline.serve that printed their ready line and are still its children."""
        ready = {int(pid) for pid in re.findall(r"hotline web: worker (\d+) ready", self.log(name))}
        return ready & set(children(self.procs[name].pid))

    def wait_serving(self, name: str, workers: int, *, besides: set[int] | frozenset[int] = frozenset()) -> set[int]:
        """Until `workers` workers (none of `besides`) are ready; fails at once if the server exits."""
        proc = self.procs[name]

        def ready() -> set[int]:
            if proc.poll() is not None:
                raise AssertionError(f"{name} exited ({proc.returncode}): {self.log(name)[-3000:]}")
            found = self.serving_workers(name) - besides
            return found if len(found) >= workers else set()

        found: set[int] = wait_until(ready, timeout=STARTUP_CAP_SECONDS, what=f"{name}: {workers} workers ready")
        return found

    def worker(
        self, name: str, env: dict[str, str], *, concurrency: int = 1, restart: bool = False, wait: bool = True
    ) -> subprocess.Popen[bytes]:
        """A Celery worker; `restart` runs it as systemd's Restart=always does (deploy/systemd)."""
        argv = [
            *[sys.executable, "-m", "celery", "-A", "hotline", "worker", "--loglevel", "info"],
            *["--concurrency", str(concurrency), "--without-gossip", "--without-mingle", "--without-heartbeat"],
            *["-n", f"{name}@%h"],
        ]
        if restart:
            command = " ".join(shlex.quote(a) for a in argv)
            argv = ["sh", "-c", f"while true; do {command}; echo 'worker exited, restarting'; sleep 1; done"]
        proc = self.start(name, argv, env)
        if wait:
            self.wait_ready(name)
        return proc

    def wait_ready(self, name: str) -> None:
        proc = self.procs[name]
        wait_until(
            lambda: "ready" in self.log(name) or proc.poll() is not None,
            timeout=STARTUP_CAP_SECONDS,
            what=f"{name} ready",
        )
        assert proc.poll() is None, self.log(name)[-3000:]

    def beat(self, name: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
        return self.start(
            name,
            [sys.executable, "-m", "celery", "-A", "hotline", "beat", "--loglevel", "info",
             "--schedule", str(self.tmp_path / f"{name}-schedule")],
            env,
        )  # fmt: skip

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group (a prefork worker's children die with it)."""
        proc = self.procs[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        proc.wait(timeout=15)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for name, proc in self.procs.items():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill(name)


def children(pid: int) -> list[int]:
    """A process's children (multiprocessing's resource tracker excluded)."""
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    found = []
    for child in map(int, out):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if "resource_tracker" not in cmdline:
            found.append(child)
    return found


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    procs = Processes(tmp_path)
    try:
        yield procs
    finally:
        procs.stop_all()
