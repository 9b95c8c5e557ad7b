"""Scale-out drills: two beats elect one leader; two web nodes share one Redis layer."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
import requests
import websockets

from tests.drills.conftest import needs_servers, wait_until
from tests.readiness import STARTUP_CAP_SECONDS
from tickets.org.models import Unit

pytestmark = [pytest.mark.drill, pytest.mark.slow, needs_servers, pytest.mark.django_db(transaction=True)]


def _sent_ticks(redis: Any) -> int:
    """Messages the beats put on the default queue (no worker consumes them here)."""
    tasks = [json.loads(raw)["headers"]["task"] for raw in redis.lrange("celery", 0, -1)]
    return tasks.count("channels_app.tasks.live_outbox_flush")


def test_two_beats_schedule_once_and_the_standby_takes_over_when_the_leader_dies(
    processes: Any, private_redis: Any
) -> None:
    env = processes.env(redis_url=private_redis.url, DJANGO_SETTINGS_MODULE="tests.drills.settings_beat")
    processes.beat("beat-a", env)
    processes.beat("beat-b", env)
    redis = private_redis.client()
    leader = wait_until(  # each beat's start-up: ends when one says it leads
        lambda: next((n for n in ("beat-a", "beat-b") if "now the leader" in processes.log(n)), None),
        timeout=STARTUP_CAP_SECONDS,
        what="a leader",
    )
    standby = "beat-b" if leader == "beat-a" else "beat-a"
    wait_until(lambda: _sent_ticks(redis) >= 1, timeout=20, what="the first tick")
    start, started = _sent_ticks(redis), time.monotonic()
    time.sleep(8)
    ticks, seconds = _sent_ticks(redis) - start, time.monotonic() - started
    # One task a second from one beat: two beats without the lock would send about twice as many.
    assert seconds - 3 <= ticks <= seconds + 2, (ticks, seconds)
    assert "standing by" in processes.log(standby)
    assert "Sending due task" not in processes.log(standby)

    processes.kill(leader)  # SIGKILL: its PostgreSQL session ends, and the advisory lock with it
    wait_until(lambda: "now the leader" in processes.log(standby), timeout=30, what="the standby taking over")
    before = _sent_ticks(redis)
    time.sleep(4)
    assert _sent_ticks(redis) - before >= 2  # the schedule goes on


def test_an_event_caused_on_one_web_node_reaches_a_socket_on_another(
    processes: Any, private_redis: Any, city: Any
) -> None:
    from tickets.accounts.services import api_token_issue
    from tickets.org.models import User

    keys = {
        name: api_token_issue(user=User.objects.get(username=name))[0]
        for name in ("operator1", "donghu_xinhua_staff")
    }
    env = processes.env(redis_url=private_redis.url)
    node_a = processes.uvicorn("web-a", env)
    node_b = processes.uvicorn("web-b", env)
    street = Unit.objects.get(code="donghu-xinhua").pk

    async def scenario() -> tuple[int, list[dict[str, Any]]]:
        headers = {"Authorization": f"Token {keys['donghu_xinhua_staff']}"}
        async with websockets.connect(f"ws://{node_b}/ws/live/", additional_headers=headers) as ws:
            assert json.loads(await ws.recv())["type"] == "hello"

            def act() -> int:
                auth = {"Authorization": f"Token {keys['operator1']}"}
                ticket = requests.post(
                    f"http://{node_a}/api/tickets/",
                    json={"text": "新华街道幸福路的井盖丢了，很危险", "kind": "help"},
                    headers=auth,
                    timeout=30,
                )
                assert ticket.status_code == 201, ticket.text
                dispatched = requests.post(
                    f"http://{node_a}/api/tickets/{ticket.json()['id']}/dispatch/",
                    json={"lead_unit": street},
                    headers=auth,
                    timeout=30,
                )
                assert dispatched.status_code == 200, dispatched.text
                return int(ticket.json()["id"])

            ticket_id = await asyncio.to_thread(act)
            heard: list[dict[str, Any]] = []
            deadline = time.monotonic() + 15
            while not any(m["type"] == "ticket.dispatched" for m in heard):
                left = max(0.1, deadline - time.monotonic())
                heard.append(json.loads(await asyncio.wait_for(ws.recv(), timeout=left)))
            return ticket_id, heard

    ticket_id, heard = asyncio.run(scenario())
    # The unit's socket on node B heard the dispatch made through node A, and only what a unit may hear.
    assert [m["ticket"]["id"] for m in heard if m["type"] == "ticket.dispatched"] == [ticket_id]
    assert "ticket.created" not in [m["type"] for m in heard]
