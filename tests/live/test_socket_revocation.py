"""Issue 14, finding 4 (live side): an open socket of a user who is deactivated, changes password
or logs out is closed within seconds (4401), on the real channel layer (Redis with REDIS_URL,
in-memory otherwise); a socket whose token expires, or whose user was changed without model
signals, is closed by its periodic re-check."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from rest_framework.test import APIClient

from tests.live.conftest import open_feed, open_socket
from tickets.accounts import services as accounts_services
from tickets.accounts.models import StaffSession
from tickets.org.models import User

pytestmark = pytest.mark.django_db(transaction=True)

CLOSE_WITHIN = 5.0  # seconds; the revocation message arrives in milliseconds


async def closed(comm: WebsocketCommunicator, within: float = CLOSE_WITHIN) -> dict[str, Any]:
    """The close frame the server sends, skipping any events before it; fails after `within` s."""
    async with asyncio.timeout(within):
        while True:
            message = await comm.receive_output(timeout=within)
            if message["type"] == "websocket.close":
                return dict(message)


async def still_open(comm: WebsocketCommunicator) -> bool:
    await comm.send_json_to({"type": "ping"})
    reply = await comm.receive_json_from(timeout=CLOSE_WITHIN)
    return bool(reply == {"type": "pong"})


def _save_user(username: str, **changes: Any) -> None:
    user = User.objects.get(username=username)
    password = changes.pop("password", None)
    if password:
        user.set_password(password)
    for name, value in changes.items():
        setattr(user, name, value)
    user.save()


def test_deactivating_a_user_closes_their_open_socket(token: Callable[[str], str]) -> None:
    key = token("rsj_staff")

    async def go() -> dict[str, Any]:
        comm = await open_feed(key)
        await database_sync_to_async(_save_user)("rsj_staff", is_active=False)
        return await closed(comm)

    frame = async_to_sync(go)()
    assert frame["code"] == 4401 and frame.get("reason") == "revoked"


def test_a_password_change_closes_every_socket_of_that_user_and_no_one_elses(token: Callable[[str], str]) -> None:
    mine, mine_too, theirs = token("operator1"), token("operator1"), token("operator2")

    async def go() -> tuple[dict[str, Any], dict[str, Any], bool]:
        first, second, other = await open_feed(mine), await open_feed(mine_too), await open_feed(theirs)
        await database_sync_to_async(_save_user)("operator1", password="another-secret-1")
        frames = await closed(first), await closed(second)
        alive = await still_open(other)
        await other.disconnect()
        return *frames, alive

    first, second, other_alive = async_to_sync(go)()
    assert first["code"] == 4401 and second["code"] == 4401
    assert other_alive


def test_logging_out_a_token_closes_the_sockets_opened_with_it_only(token: Callable[[str], str]) -> None:
    desk, phone = token("dispatcher1"), token("dispatcher1")

    def logout(key: str) -> int:
        return int(APIClient(HTTP_AUTHORIZATION=f"Token {key}").post("/api/auth/logout/").status_code)

    async def go() -> tuple[int, dict[str, Any], bool]:
        desk_socket, phone_socket = await open_feed(desk), await open_feed(phone)
        status = await database_sync_to_async(logout)(desk)
        frame = await closed(desk_socket)
        alive = await still_open(phone_socket)
        await phone_socket.disconnect()
        return status, frame, alive

    status, frame, phone_alive = async_to_sync(go)()
    assert status == 204 and frame["code"] == 4401
    assert phone_alive


def test_the_pages_logout_closes_the_socket_of_that_page_session(city: object) -> None:
    browser = Client()
    assert browser.post("/login/", {"username": "supervisor1", "password": "demo-12345"}).status_code == 302
    cookie = f"sessionid={browser.cookies['sessionid'].value}".encode()

    async def go() -> dict[str, Any]:
        comm, connected, _ = await open_socket(headers=[(b"cookie", cookie), (b"origin", b"http://testserver")])
        assert connected
        assert (await comm.receive_json_from(timeout=5))["type"] == "hello"
        assert (await database_sync_to_async(browser.post)("/logout/")).status_code == 302
        return await closed(comm)

    assert async_to_sync(go)()["code"] == 4401


def test_a_page_logout_deletes_the_session_before_its_sockets_are_told(city: object, monkeypatch: Any) -> None:
    """A console told to go to the login page must find its session gone: Django flushes the
    session only after user_logged_out, and the page would otherwise be signed in once more and
    sent back to its workspace (then, a moment later, to the login page again)."""
    browser = Client()
    assert browser.post("/login/", {"username": "operator2", "password": "demo-12345"}).status_code == 302
    key = browser.cookies["sessionid"].value
    seen: list[bool] = []
    announce = accounts_services._announce

    def spying(**kwargs: Any) -> None:
        seen.append(StaffSession.objects.filter(session_key=key).exists())
        announce(**kwargs)

    monkeypatch.setattr(accounts_services, "_announce", spying)
    assert browser.post("/logout/").status_code == 302
    assert seen == [False]


def test_a_change_made_without_model_signals_is_caught_by_the_recheck(
    token: Callable[[str], str], settings: Any
) -> None:
    """QuerySet.update fires no signal (and Redis may have been down): the backstop closes it."""
    settings.LIVE_AUTH_RECHECK_SECONDS = 0.2
    key = token("supervisor1")

    async def go() -> dict[str, Any]:
        comm = await open_feed(key)
        await database_sync_to_async(User.objects.filter(username="supervisor1").update)(is_active=False)
        return await closed(comm)

    frame = async_to_sync(go)()
    assert frame["code"] == 4401 and frame.get("reason") == "revoked"


def test_a_revoked_login_reads_revoked_whichever_path_notices_first(
    token: Callable[[str], str], settings: Any
) -> None:
    """The revocation message and the periodic re-check race (a loaded machine delays the message):
    the reason is decided from the login itself, so a deactivated user's socket never reads "expired"."""
    settings.LIVE_AUTH_RECHECK_SECONDS = 0.05
    key = token("rsj_staff")

    async def go() -> dict[str, Any]:
        comm = await open_feed(key)
        await database_sync_to_async(_save_user)("rsj_staff", is_active=False)
        return await closed(comm)

    frame = async_to_sync(go)()
    assert frame["code"] == 4401 and frame.get("reason") == "revoked"


def test_a_socket_is_closed_when_its_token_expires(token: Callable[[str], str], settings: Any) -> None:
    settings.API_TOKEN_TTL = timedelta(seconds=2)  # the re-check waits for the expiry, not 30 s
    key = token("operator1")

    async def go() -> dict[str, Any]:
        comm = await open_feed(key)
        return await closed(comm)

    frame = async_to_sync(go)()
    assert frame["code"] == 4401 and frame.get("reason") == "expired"
