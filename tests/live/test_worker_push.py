"""Pushes from code with no serving event loop (a Celery worker's routing batch): they go through one
event loop the process keeps (channels_app.broadcast.layer_call), not a new loop and Redis
connection per push, and arrive in order (Redis going away and back: tests/live/test_outbox.py)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from channels.layers import InMemoryChannelLayer, get_channel_layer

from channels_app import broadcast
from channels_app import payloads as p
from channels_app.groups import role_group


def _snapshot(n: int) -> p.Envelope:
    payload = p.Wallboard(type="wallboard", cursor=None, at=f"2026-12-04T08:00:0{n}+08:00", desks=[], seats=[])
    return p.Envelope(payload=payload, unit_paths=[])


def test_a_workers_pushes_arrive_through_one_kept_loop() -> None:
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):
        pytest.skip("the in-memory layer is bound to the serving loop; this is the Redis layer's path")
    group = role_group(p.SUPERVISOR)

    async def listen(count: int) -> list[Any]:
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        started.set()
        got = [await asyncio.wait_for(layer.receive(channel), 10) for _ in range(count)]
        await layer.group_discard(group, channel)
        return got

    def push_from_a_worker_thread() -> None:  # a pool process's task thread: no event loop of its own
        started.wait(10)
        for n in range(3):
            broadcast.layer_call(broadcast._send_to, group, _snapshot(n))
        loops.add(id(broadcast._process_loop()))

    started, loops = threading.Event(), set[int]()
    worker = threading.Thread(target=push_from_a_worker_thread)
    worker.start()
    got = asyncio.run(listen(3))
    worker.join(10)
    assert [m["envelope"]["payload"]["at"] for m in got] == [_snapshot(n)["payload"]["at"] for n in range(3)]
    assert len(loops) == 1 and broadcast._serving_loop() is None
