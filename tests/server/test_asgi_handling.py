"""The served application's request handling (hotline/admission.py, AdmittingASGIHandler.handle):
a request's synchronous part runs in one trip to a thread the process keeps; a streamed response
(an export) is produced in that thread and closed there, also when the client goes mid-stream."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator
from django.core.signals import request_finished

from hotline.admission import AdmittingASGIHandler, Slots
from tests.server import asgi_urls

pytestmark = pytest.mark.django_db(transaction=True)
LONG = 1_000_000  # lines of a long export


@pytest.fixture
def handler(settings: Any) -> Any:
    settings.ROOT_URLCONF = "tests.server.asgi_urls"
    asgi_urls.seen["view"].clear()
    asgi_urls.seen["parts"].clear()
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
