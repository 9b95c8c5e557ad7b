"""A socket that leaves is gone: its consumer ends, also while events are flowing.

Issue 6: now and then a consumer's cancelled channels-redis `receive()` never finished after
its client left (one leaked task per occurrence; uvicorn's graceful shutdown then waited for
ever). Cause: on Python 3.11 `asyncio.wait_for` — which redis-py uses to send each command —
returns the result instead of raising when the cancellation arrives just as the awaited write
completes, so channels-redis's receive loop carries on and the one `cancel()` Channels sends is
lost. Consumers no longer own a layer receive (channels_app.hub), and the hub's single receiver
is stopped with `cancel_until_done`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from channels_app.broadcast import MESSAGE_TYPE
from channels_app.hub import cancel_until_done
from tests.live.conftest import open_feed

pytestmark = pytest.mark.django_db(transaction=True)

CYCLES = 150


def test_a_stop_that_a_cancelled_wait_for_swallowed_is_repeated_until_the_task_ends() -> None:
    async def go() -> bool:
        loop = asyncio.get_running_loop()
        pending: list[asyncio.Future[None]] = []

        async def receiver() -> None:  # the shape of channels-redis's receive over redis-py
            while True:
                fut: asyncio.Future[None] = loop.create_future()
                pending.append(fut)
                await asyncio.wait_for(fut, timeout=10)

        task = asyncio.ensure_future(receiver())
        await asyncio.sleep(0)
        pending[-1].set_result(None)  # the write completes …
        task.cancel()  # … and the cancellation arrives in the same turn of the loop
        await asyncio.sleep(0.05)  # on Python 3.11 the task is still running here: cancel lost
        await asyncio.wait_for(cancel_until_done(task, every=0.05), timeout=5)
        return task.done()

    assert async_to_sync(go)()


def test_sockets_leaving_while_events_flow_all_end(token: Callable[[str], str]) -> None:
    key = token("supervisor1")

    async def go() -> list[int]:
        layer = get_channel_layer()
        flowing = True

        async def flood() -> None:
            n = 0
            while flowing:
                n += 1
                envelope: dict[str, Any] = {"payload": {"type": "noop", "cursor": None, "at": str(n)}, "unit_paths": []}
                await layer.group_send(
                    "role.supervisor", {"type": MESSAGE_TYPE, "group": "role.supervisor", "envelope": envelope}
                )
                await asyncio.sleep(0.001)

        sender = asyncio.ensure_future(flood())
        stuck: list[int] = []
        keep = await open_feed(key)  # the process keeps its receiver while others come and go
        try:
            for i in range(CYCLES):
                comm = await open_feed(key)
                leaving = asyncio.ensure_future(comm.disconnect(timeout=5))
                done, _ = await asyncio.wait([leaving], timeout=10)
                if not done:
                    stuck.append(i)  # a consumer that never ended; do not wait on it further
        finally:
            flowing = False
            await sender
            await keep.disconnect()
        return stuck

    assert async_to_sync(go)() == []
