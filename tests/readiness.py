"""Waiting for servers the tests start: on a readiness signal, never on a guess of how long it takes.

A start-up takes 4 s on a quiet machine and a minute or more on a loaded 2-core CI box (issue 14:
a drill gave up after 90 s). Each wait here ends as soon as the server says it is ready (`/readyz`
answers 200, a worker prints its ready line) or the process exits, which fails at once with its log.
STARTUP_CAP_SECONDS only stops a test that would otherwise hang forever; it is not an estimate.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

STARTUP_CAP_SECONDS = 900.0


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


def wait_http_ready(
    base: str, process: subprocess.Popen[Any], log: Path | None = None, *, probe: str = "/readyz"
) -> None:
    """Until `GET {base}{probe}` answers 200: /readyz (database and, in production, Redis answer), or
    /healthz (the process serves) for a drill whose database is meant to be unreachable."""

    def ready() -> bool:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:] if log is not None and log.exists() else ""
            raise AssertionError(f"server exited ({process.returncode}) before it was ready: {tail}")
        try:
            return requests.get(f"{base}{probe}", timeout=30).status_code == 200
        except (requests.ConnectionError, requests.Timeout):
            return False

    wait_until(ready, timeout=STARTUP_CAP_SECONDS, what=f"{base}{probe}", every=0.2)
