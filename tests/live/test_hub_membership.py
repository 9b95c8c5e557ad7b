"""A process's hub keeps hearing its groups after every socket of the process has left once.

Found by a CI failure (an open console not sent to the login page when its login was revoked):
the embedded in-memory layer drops a channel from *every* group when a message in it expires
unread. The hub's receiver stops when the last local socket leaves; a message that reached the
hub's channel in that same turn of the loop stayed there, expired a minute later, and took the
hub's next memberships with it. The process then heard nothing (live events, revocations) until
its hourly re-join, while its sockets showed the feed as connected.
"""

from __future__ import annotations

import asyncio
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

from channels_app.hub import Hub

EXPIRY = 0.3  # seconds a message may wait unread (60 in production)


class Socket:
    """What the hub needs of a consumer (channels_app.hub.Listener): somewhere to deliver."""

    def __init__(self) -> None:
        self.got: list[dict[str, Any]] = []

    def deliver(self, message: dict[str, Any]) -> None:
        self.got.append(message)

    def resync(self) -> None:
        pass


async def _delivered(socket: Socket, count: int) -> bool:
    for _ in range(500):  # up to 5 s on a loaded machine; returns as soon as it is there
        if len(socket.got) >= count:
            return True
        await asyncio.sleep(0.01)
    return False


def test_a_message_left_unread_by_the_last_socket_does_not_deafen_the_next() -> None:
    async def go() -> list[str]:
        layer = InMemoryChannelLayer(expiry=EXPIRY)
        hub = Hub(layer)
        first = Socket()
        await hub.join("user.7", first)
        await asyncio.sleep(0.05)  # the receiver waits on the hub's channel
        # A message arrives and the last socket leaves in the same turn of the loop: the receiver,
        # woken but not yet run, is stopped with the message still in the channel.
        await layer.send(hub.channel, {"type": "auth.revoked", "group": "user.7", "n": 1})
        await hub.leave("user.7", first)
        await asyncio.sleep(EXPIRY * 2)  # the unread message expires

        second = Socket()
        await hub.join("user.7", second)
        await layer.group_send("user.7", {"type": "auth.revoked", "group": "user.7", "n": 2})
        heard = await _delivered(second, 1)
        await hub.leave("user.7", second)
        return [f"n={m['n']}" for m in second.got] if heard else []

    assert async_to_sync(go)() == ["n=2"]


def test_a_process_whose_groups_are_quiet_for_a_day_still_hears_them(monkeypatch: Any) -> None:
    """The layer ends a membership not re-added within its group_expiry (a day in production).
    The hub re-added its groups only after receiving a message, so a process whose sockets'
    groups were all quiet that long (a small unit's inbox on a wall screen over a holiday, the
    demo left open) stopped hearing them for good. Here a day is two seconds."""
    monkeypatch.setattr("channels_app.hub.REFRESH_SECONDS", 0.5)

    async def go() -> list[int]:
        layer = InMemoryChannelLayer(group_expiry=2)
        hub = Hub(layer)
        inbox = Socket()
        await hub.join("unit.xiaoshan", inbox)
        await asyncio.sleep(4)  # nothing sent to any group of the process
        await layer.group_send("unit.xiaoshan", {"type": "live.event", "group": "unit.xiaoshan", "n": 1})
        await _delivered(inbox, 1)
        await hub.leave("unit.xiaoshan", inbox)
        return [m["n"] for m in inbox.got]

    assert async_to_sync(go)() == [1]


def test_after_every_socket_left_the_next_hears_its_groups_on_the_configured_layer() -> None:
    """The same stop and start on the layer the process runs with (Redis with REDIS_URL): the
    new channel's receiver gets what is sent to the groups the next socket joins."""

    async def go() -> list[int]:
        layer = get_channel_layer()
        hub = Hub(layer)
        first = Socket()
        await hub.join("role.supervisor", first)
        await layer.group_send("role.supervisor", {"type": "live.event", "group": "role.supervisor", "n": 1})
        assert await _delivered(first, 1)
        await hub.leave("role.supervisor", first)

        second = Socket()
        await hub.join("role.supervisor", second)
        await layer.group_send("role.supervisor", {"type": "live.event", "group": "role.supervisor", "n": 2})
        await _delivered(second, 1)
        await hub.leave("role.supervisor", second)
        return [m["n"] for m in first.got + second.got]

    assert async_to_sync(go)() == [1, 2]
