"""Admission: how many requests of one web process run their synchronous part at once, and
which go first.

Django runs each request's middleware and view in a thread of its own (asgiref's
ThreadSensitiveContext), so a worker process took every request it was sent at once and ran
them all, one GIL between them. Under a burst (the call centre: 25 callers a second, seven
webhooks each) a transaction holding the queue lock ran at a fiftieth of a core, every other
queue transaction waited for it, and a bridge took 0.5–1.3 s (bench/callcentre). Here at most
`WEB_SLOTS` requests per process are inside Django's request handling (middleware, view); the
others wait on the event loop, where waiting costs nothing, and are let in as slots free:

1. a caller and an operator about to be connected (`WEB_CONNECTING_PATHS`: the operator's leg
   and the bridge, whose answer carries the 来电弹屏);
2. a caller waiting in silence for the greeting or the next prompt (`WEB_URGENT_PATHS`: the
   incoming call, the desk menu, the IVR's steps);
3. everything else;

each rank in arrival order. The bridge ranks above the incoming call because its wait is the
one both people hear at once, the operator already on the line (bench/callcentre: with the two
in one rank a bridge waited up to ~140 ms for a slot behind the arrival burst's greetings, p99).

Reading the body and sending the response (uploads, downloads, streamed exports) happen
outside the slot: a slow client holds no slot. `WEB_SLOTS` stays at or below the process's
database pool (HOTLINE_DB_POOL_MAX), so a request that got in never waits for a connection.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

import django
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpRequest, HttpResponseBase


class Slots:
    """A semaphore with one queue per rank: a waiter of rank 0 is let in before any of rank 1,
    and so on; within a rank, in arrival order."""

    def __init__(self, slots: int, ranks: int = 3) -> None:
        if slots < 1:
            raise ValueError("at least one slot")
        self.free = slots
        self.waiting: tuple[deque[asyncio.Future[None]], ...] = tuple(deque() for _ in range(ranks))

    async def acquire(self, *, rank: int) -> None:
        if self.free > 0 and not any(self.waiting):
            self.free -= 1
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting[rank].append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # the slot was handed over as we were cancelled
                self.release()
            raise  # a cancelled turn left in its queue is skipped by release()

    def release(self) -> None:
        for queue in self.waiting:
            while queue:
                turn = queue.popleft()
                if not turn.done():
                    turn.set_result(None)  # the slot passes to the waiter, free stays as it is
                    return
        self.free += 1


class AdmittingASGIHandler(ASGIHandler):
    """Django's ASGI handler with the slots around the middleware chain and the view."""

    CONNECTING, URGENT, ROUTINE = 0, 1, 2

    def __init__(self) -> None:
        super().__init__()
        self.slots: Slots | None = None  # made in the serving event loop, on the first request
        self.ranks = {path: self.URGENT for path in settings.WEB_URGENT_PATHS}
        self.ranks.update({path: self.CONNECTING for path in settings.WEB_CONNECTING_PATHS})

    def load_middleware(self, is_async: bool = False) -> None:
        """The middleware chain built for synchronous use, entered once per request.

        Built for the event loop (Django's default under ASGI), every middleware that is async-
        capable (sessions, locale, common, CSRF, auth, messages, clickjacking, axes) ran its
        `process_request` and `process_response` each in its own trip to the request's thread and
        back, and a sync-only one between them (ours, WhiteNoise) took the chain back to the loop:
        ~20 thread hand-overs per request of ~170 µs each. `GET /api/me/` through the ASGI
        application cost 5.4 ms of CPU, 3.6 ms with one hand-over (`bench/intake/inprocess.py
        --asgi`). Every middleware here can run synchronously, so the whole chain and the view now
        run in one trip to the thread."""
        super().load_middleware(is_async=False)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        if self.slots is None:
            self.slots = Slots(settings.WEB_SLOTS)
        slots = self.slots
        await slots.acquire(rank=self.ranks.get(request.path, self.ROUTINE))
        try:
            return await sync_to_async(self.get_response, thread_sensitive=True)(request)  # type: ignore[no-any-return]
        finally:
            slots.release()


def get_asgi_application() -> Any:
    """As django.core.asgi.get_asgi_application, with admission."""
    django.setup(set_prefix=False)
    return AdmittingASGIHandler()
