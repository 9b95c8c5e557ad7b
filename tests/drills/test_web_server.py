"""The production web server (`python -m hotline.serve`, Procfile and systemd): every worker serves.

`uvicorn --workers 2` shares one listening socket and let one worker take most connections under
load; hotline.serve gives each worker its own SO_REUSEPORT socket. Checked with the real server:
many new connections land on both workers; a killed worker is replaced; SIGTERM stops them all.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.drills.conftest import children, wait_until
from tests.readiness import STARTUP_CAP_SECONDS

pytestmark = [pytest.mark.drill, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _sockets(pid: int, *, local: int | None = None, remote: int | None = None) -> list[tuple[int, int]]:
    """(local port, remote port) of the established TCP connections process `pid` holds, from /proc."""
    links = []
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                links.append(str(fd.readlink()))
            except OSError:  # closed meanwhile (in this process: the listing's own descriptor)
                continue
    except OSError:
        return []
    inodes = {link[8:-1] for link in links if link.startswith("socket:[")}
    found = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        ports = (int(fields[1].split(":")[1], 16), int(fields[2].split(":")[1], 16))
        if fields[3] != "01" or fields[9] not in inodes:  # 01 = ESTABLISHED
            continue
        if (local is None or ports[0] == local) and (remote is None or ports[1] == remote):
            found.append(ports)
    return found


def _connections(pid: int, port: int, clients: set[int]) -> int:
    """Connections to the server's port held by worker `pid` whose other end is one of `clients`
    (this test's own sockets: a browser test's page elsewhere may still be retrying an old server
    that had the same port number)."""
    return sum(1 for _, peer in _sockets(pid, local=port) if peer in clients)


def test_connections_spread_over_both_workers_and_a_dead_worker_is_replaced(processes: Any) -> None:
    # Every wait below ends on a readiness signal (each worker's ready line), not on a guess of how
    # long a start takes: 90 s was not enough on a loaded 2-core machine (issue 14).
    server, address = processes.serve("web", processes.env(redis_url=""), workers=2)
    base = f"http://{address}"
    port = int(address.rsplit(":", 1)[1])
    workers = sorted(processes.serving_workers("web"))
    assert len(workers) == 2 and set(workers) == set(children(server.pid))

    # 40 clients, each with its own connection held open: the kernel spreads them over both sockets.
    sessions = [requests.Session() for _ in range(40)]
    for session in sessions:
        assert session.get(f"{base}/login/", timeout=10).status_code == 200
    clients = {mine for mine, _ in _sockets(os.getpid(), remote=port)}
    assert len(clients) == 40
    per_worker = {pid: _connections(pid, port, clients) for pid in workers}
    for session in sessions:
        session.close()
    assert sum(per_worker.values()) == 40, per_worker
    assert all(n > 0 for n in per_worker.values()), per_worker

    # A worker killed outright is started again; the server keeps answering meanwhile.
    os.kill(workers[0], signal.SIGKILL)
    replaced = processes.wait_serving("web", 2, besides={workers[0]})
    assert workers[1] in replaced
    assert requests.get(f"{base}/login/", timeout=10).status_code == 200

    # SIGTERM to the parent (systemd's stop, honcho's): every worker finishes and exits.
    running = children(server.pid)
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=STARTUP_CAP_SECONDS) == 0
    wait_until(lambda: not [pid for pid in running if Path(f"/proc/{pid}").exists()], timeout=30, what="workers gone")


def test_each_worker_runs_in_a_session_of_its_own_and_leaves_when_its_parent_dies(processes: Any) -> None:
    """Linux shares the CPU between sessions (autogroup): the workers each lead their own, so the
    web counts as two beside PostgreSQL's backends and the routing worker, not as one. Out of the
    parent's process group, a worker must notice by itself that its parent is gone."""
    server, address = processes.serve("web", processes.env(redis_url=""), workers=2)
    workers = sorted(processes.serving_workers("web"))
    assert [os.getsid(pid) for pid in workers] == workers
    assert os.getsid(server.pid) not in workers

    os.kill(server.pid, signal.SIGKILL)  # the parent only: nobody forwards a signal to the workers
    server.wait(timeout=15)
    wait_until(lambda: not [pid for pid in workers if Path(f"/proc/{pid}").exists()], timeout=30, what="orphans gone")
    assert processes.log("web").count("the parent is gone; stopping") == 2
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://{address}/login/", timeout=5)
