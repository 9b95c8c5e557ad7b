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

A request's synchronous part (the request_started signal, the request object, middleware and
view, and for a response in hand its close with request_finished) runs in one trip to a thread
the process keeps (`Threads`), not in a new thread per request with three trips as Django's
handler does (see `AdmittingASGIHandler.handle`).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import django
from asgiref.sync import SyncToAsync
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse, HttpResponseBase
from django.urls import set_script_prefix

T = TypeVar("T")


class Slots:
    """A semaphore with one queue per rank: a waiter of rank 0 is let in before any of rank 1,
    and so on; within a rank, in arrival order."""

    def __init__(self, slots: int, ranks: int = 3) -> None:
        if slots < 1:
            raise ValueError("at least one slot")
        self.free = slots
        self.waiting: tuple[deque[asyncio.Future[None]], ...] = tuple(deque() for _ in range(ranks))

    async def acquire(self, *, rank: int) -> None:
        if self.try_acquire():
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting[rank].append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # the slot was handed over as we were cancelled
                self.release()
            raise  # a cancelled turn left in its queue is skipped by release()

    def try_acquire(self) -> bool:
        """A free slot at once, if there is one and nobody is waiting for it."""
        if self.free > 0 and not any(self.waiting):
            self.free -= 1
            return True
        return False

    def release(self) -> None:
        for waiters in self.waiting:
            while waiters:
                turn = waiters.popleft()
                if not turn.done():
                    turn.set_result(None)  # the slot passes to the waiter, free stays as it is
                    return
        self.free += 1


class RequestThread:
    """A kept thread that runs requests' synchronous parts, one at a time, in the order given.

    A hand-over is a put on the thread's queue and, when the part is done, one
    `call_soon_threadsafe` that settles the waiting future. asgiref's `sync_to_async` with a
    one-thread `ThreadPoolExecutor` did the same trip through a `concurrent.futures.Future`
    chained to an asyncio one and a copy of the thread's context variables back to the loop:
    ~12 % of the web workers' time at C=32, ~2.5 % this way (py-spy during
    `bench/intake/peer_compare.py`; bench/intake/README.md, session 19). Nothing on the loop side
    reads a context variable the view set, so none is copied back. As asgiref's thread does, it
    records the serving loop, so that an `async_to_sync` in a view (the live push) runs on that loop
    and its connections."""

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        threading.Thread(target=self._serve, name="request", daemon=True).start()

    def run(
        self, loop: asyncio.AbstractEventLoop, function: Callable[..., T], args: tuple[Any, ...]
    ) -> asyncio.Future[T]:
        """`function(*args)` in this thread, in a copy of the caller's context; its outcome as a future of `loop`."""
        future: asyncio.Future[T] = loop.create_future()
        self.jobs.put((loop, future, contextvars.copy_context(), function, args))
        return future

    def _serve(self) -> None:
        local = SyncToAsync.threadlocal  # what AsyncToSync reads to find the serving loop
        local.main_event_loop_pid = os.getpid()
        while True:
            loop, future, context, function, args = self.jobs.get()
            local.main_event_loop = loop
            try:
                outcome: tuple[Any, BaseException | None] = (context.run(function, *args), None)
            except BaseException as error:  # delivered to the awaiting request
                outcome = (None, error)
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits
                loop.call_soon_threadsafe(_settle, future, *outcome)
            del loop, future, context, function, args, outcome  # the request's objects go with it


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


class Threads:
    """The threads a web process runs requests' synchronous parts in, kept and reused.

    A request borrows one for as long as it has synchronous work (the view; for a streamed
    response, also producing its parts and closing it), so everything of one request runs in one
    thread, as under Django's per-request thread (asgiref's ThreadSensitiveContext): the database
    connection the view used is the one request_finished returns. Unlike that, the thread and its
    database wrapper outlive the request: starting a thread cost ~0.5 ms of CPU per request."""

    def __init__(self) -> None:
        self.idle: list[RequestThread] = []

    def borrow(self) -> RequestThread:
        return self.idle.pop() if self.idle else RequestThread()

    def give_back(self, thread: RequestThread) -> None:
        self.idle.append(thread)


class AdmittingASGIHandler(ASGIHandler):
    """Django's ASGI handler with the slots around the middleware chain and the view."""

    CONNECTING, URGENT, ROUTINE = 0, 1, 2

    def __init__(self) -> None:
        super().__init__()
        self.slots: Slots | None = None  # made in the serving event loop, on the first request
        self.threads = Threads()
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

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)

    async def handle(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        """Django's ASGIHandler.handle with the synchronous part in one trip to a kept thread.

        Django's handler starts a thread per request and goes there three times (request_started,
        the middleware chain and view, the response's close): 1.1 ms of CPU per request beyond the
        view (`GET /api/me/`, bench/intake/inprocess.py --asgi against the test Client). Here the
        whole synchronous part is one trip; a response in hand is closed (request_finished: the
        database connection goes back to the pool) before it is sent, a streamed one after its last
        part, its parts produced in the same thread. A client gone during the view gets nothing
        sent (the ASGI server drops it); one gone during a stream stops the stream."""
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        try:
            set_script_prefix(get_script_prefix(scope))
            if self.slots is None:
                self.slots = Slots(settings.WEB_SLOTS)
            slots = self.slots
            if not slots.try_acquire() and not await self._admitted(slots, scope, receive):
                return  # the client went while the request waited: it is not run
            thread = self.threads.borrow()
            try:
                try:
                    response = await self._in(thread, self._respond, scope, body_file)
                finally:
                    slots.release()
                if response.streaming:
                    await self._stream(response, thread, receive, send)
                else:
                    await self.send_response(response, send)
            finally:
                self.threads.give_back(thread)
        finally:
            body_file.close()

    async def _admitted(self, slots: Slots, scope: dict[str, Any], receive: Callable[..., Any]) -> bool:
        """Wait for a slot by the path's rank; False if the client goes first (as Django's handler
        cancels a request whose client went, a surge's given-up requests are not run)."""
        admitted = asyncio.ensure_future(slots.acquire(rank=self.ranks.get(scope["path"], self.ROUTINE)))
        gone = asyncio.ensure_future(self.listen_for_disconnect(receive))
        await _first_of(gone, admitted)
        if admitted.cancelled():
            return False
        if gone.done() and not gone.cancelled():  # admitted as the client went
            slots.release()
            return False
        return True

    def _respond(self, scope: dict[str, Any], body_file: Any) -> HttpResponseBase:
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__  # type: ignore[attr-defined]
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size  # the ASGI server does its own chunking
        assert response is not None
        if not response.streaming:
            response.close()
        return response

    async def _stream(
        self, response: Any, thread: RequestThread, receive: Callable[..., Any], send: Callable[..., Any]
    ) -> None:
        """Send a streamed response while listening for the client to go; close it in its thread."""
        sending = asyncio.create_task(self._send_stream(response, thread, send))
        listening = asyncio.create_task(self.listen_for_disconnect(receive))
        try:
            await _first_of(listening, sending)
        finally:
            await self._in(thread, response.close)

    async def _send_stream(self, response: Any, thread: RequestThread, send: Callable[..., Any]) -> None:
        if not response.is_async:  # a file or a generator: its parts are produced in the request's thread
            parts = iter(response.streaming_content)

            async def produced() -> Any:
                while chunk := await self._in(thread, self._next_chunk, parts):
                    yield chunk

            response.streaming_content = produced()
        await self.send_response(response, send)

    def _next_chunk(self, parts: Iterator[bytes]) -> bytes:
        """The stream's next parts, up to about chunk_size bytes (b"" at its end): one thread trip
        per chunk, not per CSV line."""
        chunk = bytearray()
        for part in parts:
            chunk += part
            if len(chunk) >= self.chunk_size:
                break
        return bytes(chunk)

    @staticmethod
    async def _in(thread: RequestThread, function: Callable[..., T], *args: Any) -> T:
        """`function(*args)` in the request's thread. Cancelled meanwhile (the server stopping), it
        still waits until the thread is done with it, so neither the slot nor the thread is given
        back while the view runs, then passes the cancellation on."""
        done = thread.run(asyncio.get_running_loop(), function, args)
        try:
            return await asyncio.shield(done)
        except asyncio.CancelledError:
            if not done.done():
                await asyncio.wait([done])
            raise


async def _first_of(*tasks: asyncio.Future[Any]) -> None:
    """Wait until one of the tasks ends, then cancel the others and wait for them too. A client's
    disconnect (RequestAborted) and the cancellations end quietly; any other failure is raised."""
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()  # no effect on one that has ended
            with contextlib.suppress(asyncio.CancelledError, RequestAborted):
                await task


def get_asgi_application() -> Any:
    """As django.core.asgi.get_asgi_application, with admission."""
    django.setup(set_prefix=False)
    return AdmittingASGIHandler()
