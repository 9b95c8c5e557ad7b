"""The production web server (`python -m hotline.serve`, Procfile and systemd): every worker serves.

`uvicorn --workers 2` shares one listening socket and let one worker take most connections under
load; hotline.serve gives each worker its own SO_REUSEPORT socket. Checked with the real server:
many new connections land on both workers; a killed worker is replaced; SIGTERM stops them all.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.drills.conftest import free_port, wait_until

pytestmark = [pytest.mark.drill, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _children(pid: int) -> list[int]:
    """The serving workers: spawn children of the parent (multiprocessing's tracker excluded)."""
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    workers = []
    for child in map(int, out):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if "resource_tracker" not in cmdline:
            workers.append(child)
    return workers


def _connections(pid: int, port: int) -> int:
    """Established connections to the server's port held by this process (from /proc)."""
    try:
        links = [str(fd.readlink()) for fd in Path(f"/proc/{pid}/fd").iterdir()]
    except OSError:
        return 0
    inodes = {link[8:-1] for link in links if link.startswith("socket:[")}
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == "01" and fields[9] in inodes:  # 01 = ESTABLISHED
            count += 1
    return count


def test_connections_spread_over_both_workers_and_a_dead_worker_is_replaced(processes: Any, city: object) -> None:
    port = free_port()
    env = processes.env(redis_url="")
    server = processes.start(
        "web", [sys.executable, "-m", "hotline.serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2",
                "--timeout-graceful-shutdown", "3"], env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert server.poll() is None, processes.log("web")[-3000:]
        try:
            return requests.get(f"{base}/login/", timeout=5).status_code == 200 and len(_children(server.pid)) == 2
        except (requests.ConnectionError, requests.Timeout):  # a worker's first request is slow on a busy machine
            return False

    wait_until(up, timeout=90, what="two workers listening", every=0.3)
    workers = _children(server.pid)

    # 40 clients, each with its own connection held open: the kernel spreads them over both sockets.
    sessions = [requests.Session() for _ in range(40)]
    for session in sessions:
        assert session.get(f"{base}/login/", timeout=10).status_code == 200
    per_worker = {pid: _connections(pid, port) for pid in workers}
    for session in sessions:
        session.close()
    assert sum(per_worker.values()) == 40, per_worker
    assert all(n > 0 for n in per_worker.values()), per_worker

    # A worker killed outright is started again; the server keeps answering meanwhile.
    os.kill(workers[0], signal.SIGKILL)
    wait_until(lambda: workers[0] not in _children(server.pid) and len(_children(server.pid)) == 2,
               timeout=30, what="the dead worker replaced")  # fmt: skip
    assert requests.get(f"{base}/login/", timeout=10).status_code == 200

    # SIGTERM to the parent (systemd's stop, honcho's): every worker finishes and exits.
    children = _children(server.pid)
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=30) == 0
    time.sleep(0.5)
    assert not [pid for pid in children if Path(f"/proc/{pid}").exists()], children
