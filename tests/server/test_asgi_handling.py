"""The served application's request handling (hotline/admission.py, AdmittingASGIHandler.handle):
a request's synchronous part runs in one trip to a thread the process keeps; a streamed response
(an export) is produced in that thread and closed there, also when the client goes mid-stream."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator
from django.core.signals import request_finished

from hotline.admission import AdmittingASGIHandler, RequestThread, Slots
from tests.server import asgi_urls

pytestmark = pytest.mark.django_db(transaction=True)
LONG = 1_000_000  # lines of a long export


@pytest.fixture
def handler(settings: Any) -> Any:
    settings.ROOT_URLCONF = "tests.server.asgi_urls"
    asgi_urls.seen["view"].clear()
    asgi_urls.seen["parts"].clear()
    asgi_urls.seen["loops"].clear()
    finished: list[int] = []

    def note(**_: Any) -> None:
        finished.append(threading.get_ident())

    request_finished.connect(note, weak=False)
    application = AdmittingASGIHandler()
    application.finished = finished  # type: ignore[attr-defined]
    yield application
    request_finished.disconnect(note)


def _scope(path: str, query: bytes = b"") -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": query, "root_path": "",
        "headers": [(b"host", b"127.0.0.1")], "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }  # fmt: skip


async def _whole(application: Any, path: str, query: bytes = b"") -> tuple[int, bytes]:
    call = ApplicationCommunicator(application, _scope(path, query))
    await call.send_input({"type": "http.request", "body": b""})
    start = await call.receive_output(10)
    body = b""
    while True:
        message = await call.receive_output(10)
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await call.wait(10)
    return start["status"], body


def test_requests_run_in_kept_threads_and_are_finished_there(handler: Any) -> None:
    async def scenario() -> list[tuple[int, bytes]]:
        return [await _whole(handler, "/in-hand/") for _ in range(3)]

    answers = asyncio.run(scenario())
    assert answers == [(200, "办结".encode())] * 3
    views = asgi_urls.seen["view"]
    assert len(set(views)) == 1, "one kept thread served the three requests one after another"
    assert threading.get_ident() not in views
    assert handler.finished == views  # request_finished (the connection back to the pool) in the view's thread


def test_a_coroutine_run_from_the_view_runs_on_the_serving_loop(handler: Any) -> None:
    """The live push from a view (async_to_sync) goes through the serving loop and its kept
    connections, not a new loop in yet another thread per request."""

    async def scenario() -> tuple[int, list[tuple[int, bytes]]]:
        return id(asyncio.get_running_loop()), [await _whole(handler, "/pushes/") for _ in range(2)]

    serving, answers = asyncio.run(scenario())
    assert answers == [(200, "已推送".encode())] * 2
    assert asgi_urls.seen["loops"] == [serving, serving]
    assert threading.get_ident() not in asgi_urls.seen["view"]


def test_a_failing_view_answers_500_and_the_thread_serves_the_next_request(handler: Any, settings: Any) -> None:
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False

    async def scenario() -> list[int]:
        return [(await _whole(handler, path))[0] for path in ("/fails/", "/in-hand/")]

    assert asyncio.run(scenario()) == [500, 200]
    assert len(asgi_urls.seen["view"]) == 1


def test_an_error_in_the_threads_work_reaches_the_request_and_a_cancelled_wait_lets_the_work_finish() -> None:
    """The hand-over itself: an exception raised in the request's thread is raised to the awaiting
    request; a request cancelled while its view runs (the server stopping) returns only once the
    view is done, so its thread and slot are not given back under a running view."""
    worker = RequestThread()
    started, release = threading.Event(), threading.Event()
    finished: list[str] = []

    def broken() -> None:
        raise ValueError("工单号无效")

    def slow() -> str:
        started.set()
        release.wait(10)
        finished.append("view")
        return "done"

    async def scenario() -> tuple[str, list[str]]:
        try:
            await AdmittingASGIHandler._in(worker, broken)
        except ValueError as error:
            raised = str(error)
        waiting = asyncio.ensure_future(AdmittingASGIHandler._in(worker, slow))
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 10)
        waiting.cancel()
        for _ in range(5):  # the cancellation is delivered at the task's next step
            await asyncio.sleep(0)
        assert not waiting.done(), "the cancelled request waits for its view"
        release.set()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        return raised, list(finished)

    assert asyncio.run(scenario()) == ("工单号无效", ["view"])


def test_a_streamed_export_arrives_whole_produced_and_closed_in_the_views_thread(handler: Any) -> None:
    status, body = asyncio.run(_whole(handler, "/streamed/", b"lines=20000"))
    assert status == 200
    lines = body.decode().splitlines()
    assert len(lines) == 20000 and lines[0] == "0,工单" and lines[-1] == "19999,工单"
    (view,) = asgi_urls.seen["view"]
    assert set(asgi_urls.seen["parts"]) == {view}
    assert handler.finished == [view]


def test_a_client_gone_mid_stream_stops_the_stream_and_closes_the_response(handler: Any) -> None:
    async def scenario() -> int:
        call = ApplicationCommunicator(handler, _scope("/streamed/", b"lines=%d" % LONG))
        await call.send_input({"type": "http.request", "body": b""})
        assert (await call.receive_output(10))["status"] == 200
        assert (await call.receive_output(10))["more_body"]
        await call.send_input({"type": "http.disconnect"})
        await call.wait(10)  # the handler returns: it does not produce parts for nobody forever
        return len(asgi_urls.seen["parts"])

    produced = asyncio.run(scenario())
    assert produced < LONG / 10  # Django's own handler produced the whole stream before sending any of it
    (view,) = asgi_urls.seen["view"]
    assert handler.finished == [view]


def test_a_request_whose_client_went_while_it_waited_for_a_slot_is_not_run(handler: Any) -> None:
    async def scenario() -> tuple[int, tuple[int, bytes]]:
        handler.slots = Slots(1)
        await handler.slots.acquire(rank=2)  # a long request holds the only slot
        call = ApplicationCommunicator(handler, _scope("/in-hand/"))
        await call.send_input({"type": "http.request", "body": b""})
        for _ in range(1000):
            if handler.slots.waiting[2]:
                break
            await asyncio.sleep(0.001)
        await call.send_input({"type": "http.disconnect"})  # the caller gave up
        await call.wait(10)
        handler.slots.release()
        return handler.slots.free, await _whole(handler, "/in-hand/")

    free, answer = asyncio.run(scenario())
    assert free == 1  # the given-up request kept no slot
    assert answer == (200, "办结".encode())
    assert len(asgi_urls.seen["view"]) == 1  # only the second request ran
