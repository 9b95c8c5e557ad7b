"""Per-process fan-out: one channel-layer receiver per process, not one per socket.

Channels' default is one channel per consumer: a `group_send` to a group of 1,000 sockets
writes 1,000 messages to Redis, and channels-redis pops them one by one (four round trips
each) in the process's receive loop, then every consumer thread-hops to close old database
connections before it sends. That was most of the live feed's latency at 1,000 sockets
(bench/live/README.md).

Here a process (one hub per event loop and layer) holds one channel name (a new one each time
its last local socket has left). It joins a layer group while at least one of its local sockets
is in it, and leaves when the last one goes, so the layer's groups mean what they always meant
(who hears `role.supervisor`, `unit.donghu`, `ticket.42`) but count processes instead of
sockets. The broadcast names the group in each message; the hub hands it to the local members
of that group, each through its own bounded in-process queue (a slow socket never holds up the
others). Works the same on channels-redis (production) and the in-memory layer (embedded).
Both layers end a membership not re-added within a day, so the hub re-adds its groups every
REFRESH_SECONDS by the clock, also when none of them has had a message.

When the layer fails (Redis restarted or unreachable) the sockets stay open. The receiver
retries every RETRY_SECONDS until every group of a local socket is joined again — only then
does it go back to receiving: a receive that succeeds on an empty, restarted Redis while the
groups are missing would wait forever — and then asks each local socket to `resync()`: events
can have been lost in between (in the dead Redis, sent to groups not yet rejoined, or sitting
in the outbox), so each socket reads what it missed after its cursor from the database and
sends it (the consumer drops cursors it already sent).

Stopping a receiver is done with `cancel_until_done`: on Python 3.11, `asyncio.wait_for`
(used by redis-py to send a command) swallows a cancellation that arrives just as the awaited
write completes, so channels-redis's `receive()` goes on looping and a single `cancel()` never
ends the task (the leaked "cancelling" consumers of issue 6).
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections import defaultdict
from typing import Any, Protocol

log = logging.getLogger("channels_app")

REFRESH_SECONDS = 3600.0  # re-add memberships well inside channels-redis's group_expiry (1 day)
RETRY_SECONDS = 1.0  # after the layer failed (Redis down), try again this often


class Listener(Protocol):
    def deliver(self, message: dict[str, Any]) -> None: ...

    def resync(self) -> None: ...


async def cancel_until_done(task: asyncio.Future[Any], *, every: float = 0.5) -> None:
    """Cancel `task` and wait for it to end, cancelling again if a cancellation was swallowed."""
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=every)
    if not task.cancelled() and task.exception() is not None:
        log.debug("live hub receiver ended with %r", task.exception())


class Hub:
    """The local sockets of one process, by group, behind one channel-layer channel."""

    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self.channel = ""
        self.members: defaultdict[str, set[Listener]] = defaultdict(set)
        self.joined: dict[str, float] = {}  # group → monotonic time of our last group_add
        self.lock = asyncio.Lock()  # layer membership changes happen in order
        self.receiver: asyncio.Task[None] | None = None
        self.refresher: asyncio.Task[None] | None = None

    async def join(self, group: str, listener: Listener) -> None:
        self.members[group].add(listener)
        await self._sync(group)

    async def leave(self, group: str, listener: Listener) -> None:
        found = self.members.get(group)
        if found is not None:
            found.discard(listener)
            if not found:
                del self.members[group]
        await self._sync(group)

    async def _sync(self, group: str, *, membership_only: bool = False) -> None:
        """Make the layer's membership of `group` match whether anyone here is in it.

        Starts the receiver and the refresher with the first member and stops them after the
        last one left (with a new channel for the next first member).
        """
        async with self.lock:
            if not self.channel:
                self.channel = await self.layer.new_channel()
            want = group in self.members
            now = time.monotonic()
            if want and now - self.joined.get(group, -REFRESH_SECONDS) >= REFRESH_SECONDS:
                await self.layer.group_add(group, self.channel)
                self.joined[group] = now
            elif not want and group in self.joined:
                del self.joined[group]
                await self.layer.group_discard(group, self.channel)
            if membership_only:  # a rejoin from the receiver or the refresher, which must not stop itself
                return
            if self.members and self.receiver is None:
                self.receiver = asyncio.ensure_future(self._receive())
                self.refresher = asyncio.ensure_future(self._refresh())
            elif not self.members and self.receiver is not None:
                receiver, self.receiver = self.receiver, None
                refresher, self.refresher = self.refresher, None
                await cancel_until_done(receiver)
                if refresher is not None:
                    await cancel_until_done(refresher)
                # A message that reached the channel in the turn the receiver stopped stays there
                # unread. The in-memory layer drops a channel from every group when a message in
                # it expires, so the next members would join on a channel that soon hears nothing:
                # they get a new one (after the old one left the groups of leaves still waiting).
                for stale in list(self.joined):
                    del self.joined[stale]
                    await self.layer.group_discard(stale, self.channel)
                self.channel = ""

    async def _receive(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis down: keep the sockets, rejoin, then they catch up
                log.warning("live hub receive failed, retrying: %s", exc)
                await self._recover()
                continue
            self.dispatch(message)

    async def _refresh(self) -> None:
        """Re-add the memberships before the layer's group_expiry ends them, by the clock: a
        process whose groups are all quiet receives nothing that could remind it."""
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            for group in list(self.joined):
                await self._rejoin(group)  # re-adds the groups joined REFRESH_SECONDS ago or more

    async def _recover(self) -> None:
        """Rejoin every group of a local socket (Redis may have restarted empty), retrying until
        all succeed, then ask every local socket to catch up on what it may have missed."""
        self.joined = {g: -REFRESH_SECONDS for g in self.joined}
        while True:
            await asyncio.sleep(RETRY_SECONDS)
            groups = set(self.members) | set(self.joined)
            results = [await self._rejoin(group) for group in sorted(groups)]
            if all(results):
                break
        listeners = {listener for members in self.members.values() for listener in members}
        log.warning("live hub rejoined %d groups; %d sockets catch up", len(self.joined), len(listeners))
        for listener in listeners:
            listener.resync()

    async def _rejoin(self, group: str) -> bool:
        try:
            await self._sync(group, membership_only=True)
        except Exception as exc:
            log.warning("live hub could not rejoin %s: %s", group, exc)
            return False
        return True

    def dispatch(self, message: dict[str, Any]) -> None:
        batch = message.get("envelopes")  # a transaction's events for one group, in cursor order
        if batch is not None:
            rest = {key: value for key, value in message.items() if key != "envelopes"}
            messages = [{**rest, "envelope": envelope} for envelope in batch]
        else:
            messages = [message]
        for listener in tuple(self.members.get(message.get("group", ""), ())):
            for one in messages:
                listener.deliver(one)


_HUBS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, Hub]] = weakref.WeakKeyDictionary()


def hub_for(layer: Any) -> Hub:
    """The hub of this event loop for this layer (a settings change brings a new layer)."""
    hubs = _HUBS.setdefault(asyncio.get_running_loop(), {})
    hub = hubs.get(id(layer))
    if hub is None or hub.layer is not layer:
        hub = hubs[id(layer)] = Hub(layer)
    return hub
