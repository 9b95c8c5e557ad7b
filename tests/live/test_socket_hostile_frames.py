"""A live socket that is sent a frame no client of ours sends is closed with a defined code, and the
server logs a warning, not an ASGI traceback (issue 14, finding 8).

Before: Channels' JSON consumer raised on a binary frame ("No text section for incoming WebSocket
frame!") and on text that is not JSON (JSONDecodeError); `[[[[…` many thousands deep raised
RecursionError; each ended as "Exception inside application" with a traceback, and the client
saw 1011 or a dropped connection.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync

from channels_app.consumers import CLOSE_BINARY, CLOSE_NOT_JSON, CLOSE_TOO_BIG, FRAME_MAX_CHARS
from tests.live.conftest import application, open_feed, open_socket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _asgi_loaded() -> None:
    """Loading the ASGI app runs django.setup(), whose logging config would drop caplog's handler."""
    application()


FRAMES = [
    ("binary", {"bytes": b"\x00\x01\xff"}, CLOSE_BINARY),
    ("not json", {"text": "subscribe 42"}, CLOSE_NOT_JSON),
    ("empty text", {"text": ""}, CLOSE_NOT_JSON),
    ("nested past recursion", {"text": "[" * 2000 + "]" * 2000}, CLOSE_NOT_JSON),
    ("nested past the cap", {"text": json.dumps({"type": "ping", "x": [[[[[1]]]]]})}, CLOSE_NOT_JSON),
    ("nul byte", {"text": '{"type": "subscribe", "ticket": 1, "x": "a\\u0000"}'}, CLOSE_NOT_JSON),
    ("huge", {"text": json.dumps({"type": "ping", "pad": "x" * (FRAME_MAX_CHARS + 1)})}, CLOSE_TOO_BIG),
]


@pytest.mark.parametrize(("name", "frame", "code"), FRAMES, ids=[f[0] for f in FRAMES])
def test_a_hostile_frame_closes_the_socket_with_its_code_and_no_traceback(
    name: str, frame: dict[str, Any], code: int, token: Callable[[str], str], caplog: pytest.LogCaptureFixture
) -> None:
    key = token("supervisor1")

    async def go() -> dict[str, Any]:
        comm = await open_feed(key)
        await comm.send_input({"type": "websocket.receive", **frame})
        closed = await comm.receive_output(timeout=5)
        # the server answers the close handshake with a disconnect; the consumer then ends (waiting
        # here for it to end without one took the whole 5 s timeout per frame)
        await comm.send_input({"type": "websocket.disconnect", "code": closed.get("code")})
        await comm.wait(timeout=5)
        return closed

    with caplog.at_level(logging.INFO):
        closed = async_to_sync(go)()
    assert closed == {"type": "websocket.close", "code": code}
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not errors, [r.getMessage() for r in errors]
    assert any(f"closed ({code})" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


def test_a_well_formed_message_still_gets_its_answer(token: Callable[[str], str]) -> None:
    key = token("supervisor1")

    async def go() -> dict[str, Any]:
        comm = await open_feed(key)
        await comm.send_json_to({"type": "ping"})
        answer = await comm.receive_json_from(timeout=5)
        await comm.disconnect()
        return answer

    assert async_to_sync(go)() == {"type": "pong"}


def test_a_token_with_a_nul_byte_is_an_anonymous_socket_not_a_traceback(
    city: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async def go() -> tuple[bool, Any]:
        comm, connected, detail = await open_socket(query="token=abc%00def")
        await comm.send_input({"type": "websocket.disconnect", "code": detail})  # as the server does
        await comm.wait(timeout=5)
        return connected, detail

    with caplog.at_level(logging.INFO):
        connected, detail = async_to_sync(go)()
    assert (connected, detail) == (False, 4401)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
