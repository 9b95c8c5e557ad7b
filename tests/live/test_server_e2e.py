"""End to end: the real ASGI server (uvicorn) with the Redis channel layer and PostgreSQL.

A unit user, another unit's user and a supervisor hold real WebSockets (`websockets` client);
an operator creates and dispatches a ticket over HTTP; we check who heard what. Then the unit's
socket drops, the ticket changes, and the unit catches up through the cursor.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import pytest
import requests
import websockets
import websockets.protocol
from django.db import connection

from tests.readiness import free_port, wait_http_ready
from tickets.org.models import Unit

REPO = Path(__file__).resolve().parents[2]
DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")
IDLE_SECONDS = 7

pytestmark = [
    pytest.mark.slow,
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.skipif(
        not (DATABASE_URL.startswith("postgres") and REDIS_URL),
        reason="needs DATABASE_URL (PostgreSQL) and REDIS_URL: the server and the test share a real database and Redis",
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def server(city: object, tmp_path: Path) -> Iterator[str]:
    """uvicorn serving hotline.asgi on a free port, pointed at this test's database."""
    test_db = connection.settings_dict["NAME"]  # test_<name>: committed rows are visible to the server
    url = urlparse(DATABASE_URL)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": urlunparse(url._replace(path=f"/{test_db}")),
        "REDIS_URL": REDIS_URL,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "HOTLINE_EMBEDDED_SCHEDULER": "0",
        # No routing worker runs here: the server routes in-process after each intake (a queued
        # ticket's `created` is pushed with its routing batch; tests/drills cover the worker).
        "HOTLINE_ROUTING_INLINE": "1",
    }
    log = (tmp_path / "uvicorn.log").open("w+b")  # a file, not a pipe: a full pipe would stall the server
    proc = subprocess.Popen(
        [
            *[sys.executable, "-m", "uvicorn", "hotline.asgi:application", "--host", "127.0.0.1", "--port", str(port)],
            *["--timeout-graceful-shutdown", "5"],
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"127.0.0.1:{port}"
    try:
        wait_http_ready(f"http://{base}", proc, tmp_path / "uvicorn.log")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


class Feed:
    """One user's socket: a background reader collecting every message."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.messages: list[dict[str, Any]] = []
        self.task = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                self.messages.append(json.loads(raw))
        except websockets.ConnectionClosed:
            pass

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]

    async def wait_for(self, kind: str, count: int = 1, timeout: float = 10) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.of_type(kind)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"no {kind} within {timeout}s; got {[m['type'] for m in self.messages]}")
            await asyncio.sleep(0.02)
        return self.of_type(kind)

    async def close(self) -> None:
        await self.ws.close()
        await self.task


async def _feed(base: str, key: str) -> Feed:
    # Authorization header, as an API client would send it.
    ws = await websockets.connect(f"ws://{base}/ws/live/", additional_headers={"Authorization": f"Token {key}"})
    feed = Feed(ws)
    await feed.wait_for("hello")
    return feed


def _http(base: str, key: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    response = requests.request(
        method, f"http://{base}{path}", json=body, headers={"Authorization": f"Token {key}"}, timeout=10
    )
    assert response.status_code in (200, 201), (path, response.status_code, response.text)
    return response.json()


def test_who_hears_what_and_a_dropped_socket_catches_up(server: str, token: Callable[[str], str]) -> None:
    keys = {n: token(n) for n in ["operator1", "supervisor1", "donghu_xinhua_staff", "rsj_staff"]}
    street = Unit.objects.get(code="donghu-xinhua").pk

    async def scenario() -> None:
        http = lambda *a: asyncio.to_thread(_http, server, *a)  # noqa: E731
        supervisor = await _feed(server, keys["supervisor1"])
        unit = await _feed(server, keys["donghu_xinhua_staff"])
        other = await _feed(server, keys["rsj_staff"])
        # Quiet sockets must stay open past the Redis client's read timeout (redis-py 8
        # defaults socket_timeout to 5 s, which would kill channels-redis's blocking pop).
        await asyncio.sleep(IDLE_SECONDS)
        assert unit.ws.state is websockets.protocol.State.OPEN and not unit.task.done()

        ticket = await http(
            keys["operator1"],
            "POST",
            "/api/tickets/",
            {"text": "新华街道路灯坏了一个多月", "citizen_name": "李四", "citizen_phone": "13912345678"},
        )
        await http(keys["operator1"], "POST", f"/api/tickets/{ticket['id']}/dispatch/", {"lead_unit": street})

        [created] = await supervisor.wait_for("ticket.created")
        [sup_dispatched] = await supervisor.wait_for("ticket.dispatched")
        [unit_dispatched] = await unit.wait_for("ticket.dispatched")
        assert created["ticket"]["id"] == ticket["id"]
        assert sup_dispatched["ticket"]["citizen_phone"] == "+8613912345678"
        assert unit_dispatched["ticket"]["citizen_phone"] == "139****5678"
        assert unit_dispatched["cursor"] == sup_dispatched["cursor"]
        await asyncio.sleep(0.5)
        assert [m["type"] for m in unit.messages] == ["hello", "ticket.dispatched"]  # no created / needs_dispatch
        assert [m["type"] for m in other.messages] == ["hello"]  # another unit: nothing

        # The unit's socket drops; a colleague signs for the ticket meanwhile.
        last_cursor = unit_dispatched["cursor"]
        await unit.close()
        [assignment] = (await http(keys["supervisor1"], "GET", f"/api/tickets/{ticket['id']}/"))["assignments"]
        await http(keys["donghu_xinhua_staff"], "POST", f"/api/assignments/{assignment['id']}/sign/")
        [signed_live] = await supervisor.wait_for("assignment.signed")

        # Reconnect, then catch up through the cursor.
        unit = await _feed(server, keys["donghu_xinhua_staff"])
        assert unit.of_type("hello")[0]["cursor"] >= signed_live["cursor"]
        missed = await http(keys["donghu_xinhua_staff"], "GET", f"/api/events/?after={last_cursor}")
        new = [e for e in missed["events"] if e["cursor"] != last_cursor]  # the look-back repeats what it saw
        assert [(e["type"], e["cursor"]) for e in new] == [("assignment.signed", signed_live["cursor"])]
        assert new[0]["ticket"]["citizen_phone"] == "139****5678"
        assert missed["cursor"] >= signed_live["cursor"] and missed["has_more"] is False

        for feed in (supervisor, unit, other):
            await feed.close()

    asyncio.run(scenario())
