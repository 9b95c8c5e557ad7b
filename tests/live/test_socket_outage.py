"""A socket that cannot be served because Redis is unreachable is told to try again (1013).

In-process twin of tests/drills/test_live_redis_restart.py (which also covers the database's
pool timeout against a real uvicorn): the channel layer points at a port where no Redis
listens, so joining the reader's groups fails during the handshake. The app must not raise
(uvicorn would answer HTTP 500 and log an error): it closes with 1013 and logs a warning.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync

from tests.live.conftest import open_socket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def redis_gone(settings: Any) -> None:
    with socket.socket() as s:  # a port nobody listens on once this socket is closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": f"redis://127.0.0.1:{port}/0", "socket_connect_timeout": 1}]},
        }
    }


def test_a_socket_opened_while_redis_is_unreachable_is_closed_with_try_again_later(
    redis_gone: None, token: Callable[[str], str], capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    key = token("supervisor1")

    async def go() -> tuple[bool, Any, dict[str, Any]]:
        comm, connected, subprotocol = await open_socket(subprotocols=["hotline.v1", f"token.{key}"])
        closing = await comm.receive_output(timeout=30)
        await comm.wait(timeout=5)  # the app ended without an exception
        return connected, subprotocol, closing

    connected, subprotocol, closing = async_to_sync(go)()
    assert connected and subprotocol == "hotline.v1"  # accepted as offered, so a browser sees the code
    assert closing == {"type": "websocket.close", "code": 1013, "reason": "try again later"}
    # The channels_app logger writes to stderr; where that stream points depends on which test set
    # logging up first (the fd, or pytest's capture of an earlier test), so read both places.
    logged = capfd.readouterr().err + caplog.text
    assert "refused (1013), service unavailable: ConnectionError" in logged
    assert "Traceback" not in logged
