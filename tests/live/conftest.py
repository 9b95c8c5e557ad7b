"""Fixtures of the live-feed tests: a clean channel layer, tokens, socket helpers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from channels_app.broadcast import layer_call
from tickets.accounts.services import api_token_issue
from tickets.org.models import User


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    """The demo city hashes ~40 passwords; PBKDF2 would make each seeding take half a minute."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clean_layer() -> None:
    """Each test starts with an empty layer (in-memory, or Redis DB 5 when REDIS_URL is set)."""
    layer = get_channel_layer()
    if hasattr(layer, "flush"):
        layer_call(layer.flush)


@pytest.fixture
def token(city: object) -> Callable[[str], str]:
    def make(username: str) -> str:
        return api_token_issue(user=User.objects.get(username=username))[0]

    return make


def application() -> Any:
    from hotline.asgi import application

    return application


async def open_socket(
    *,
    query: str = "",
    headers: list[tuple[bytes, bytes]] | None = None,
    subprotocols: list[str] | None = None,
) -> tuple[WebsocketCommunicator, bool, Any]:
    path = "/ws/live/" + (f"?{query}" if query else "")
    comm = WebsocketCommunicator(application(), path, headers=headers or [], subprotocols=subprotocols)
    connected, detail = await comm.connect(timeout=5)
    return comm, connected, detail


async def open_feed(token_key: str) -> WebsocketCommunicator:
    """A connected socket authenticated by token, past its hello message."""
    comm, connected, _ = await open_socket(query=f"token={token_key}")
    assert connected
    hello = await comm.receive_json_from(timeout=5)
    assert hello["type"] == "hello"
    return comm


async def drain(comm: WebsocketCommunicator, *, quiet: float = 0.3) -> list[dict[str, Any]]:
    """Every message until the socket has been quiet for `quiet` seconds."""
    got: list[dict[str, Any]] = []
    while not await comm.receive_nothing(timeout=quiet):
        got.append(await comm.receive_json_from(timeout=5))
    return got
