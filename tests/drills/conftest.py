"""Fault and scale-out drills: real servers started and stopped by the test.

Each drill starts what it needs — a private redis-server on a free port (never the shared one),
uvicorn, Celery workers and beats as separate processes — pointed at this test's PostgreSQL
database, and stops only what it started. Run them alone with `pytest -m drill`.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import pytest
import requests
from django.db import connection

REPO = Path(__file__).resolve().parents[2]
DATABASE_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = DATABASE_URL.startswith("postgres")
HAVE_REDIS_SERVER = shutil.which("redis-server") is not None

needs_servers = pytest.mark.skipif(
    not (ON_POSTGRES and HAVE_REDIS_SERVER),
    reason="drill needs DATABASE_URL (PostgreSQL: processes share the test database) and redis-server",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], Any], *, timeout: float, what: str, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)


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
        wait_until(self.ping, timeout=10, what=f"redis-server on {self.port}")

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
    """DATABASE_URL pointing at pytest-django's test database (rows committed by the test are shared)."""
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

    def uvicorn(self, name: str, env: dict[str, str], *, workers: int = 1) -> str:
        port = free_port()
        self.start(
            name,
            [sys.executable, "-m", "uvicorn", "hotline.asgi:application", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(workers), "--timeout-graceful-shutdown", "3", "--log-level", "warning"],
            env,
        )  # fmt: skip
        base = f"127.0.0.1:{port}"

        def up() -> bool:
            if self.procs[name].poll() is not None:
                raise AssertionError(f"{name} exited: {self.log(name)[-3000:]}")
            try:
                requests.get(f"http://{base}/login/", timeout=5)
                return True
            except (requests.ConnectionError, requests.Timeout):
                return False

        wait_until(up, timeout=90, what=f"{name} listening", every=0.2)
        return base

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
        wait_until(lambda: "ready" in self.log(name) or proc.poll() is not None, timeout=90, what=f"{name} ready")
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


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    procs = Processes(tmp_path)
    try:
        yield procs
    finally:
        procs.stop_all()
