"""Who may open the live socket: token (three ways) or a session from our own pages; nobody else."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.test import Client
from django.utils import timezone

from tests.live.conftest import open_socket
from tickets.accounts.models import ApiToken
from tickets.accounts.selectors import api_token_digest
from tickets.org.models import User

pytestmark = pytest.mark.django_db(transaction=True)


def _session_cookie(username: str) -> bytes:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def _connect(**kwargs: object) -> tuple[bool, object, dict | None]:
    async def go() -> tuple[bool, object, dict | None]:
        comm, connected, detail = await open_socket(**kwargs)  # type: ignore[arg-type]
        hello = await comm.receive_json_from(timeout=5) if connected else None
        await comm.disconnect()
        return connected, detail, hello

    return async_to_sync(go)()


def test_anonymous_socket_is_refused(city: object) -> None:
    connected, code, _ = _connect()
    assert not connected
    assert code == 4401


def test_token_in_query_string_connects_as_that_user(token: Callable[[str], str]) -> None:
    connected, _, hello = _connect(query=f"token={token('supervisor1')}")
    assert connected
    assert hello == {"type": "hello", "cursor": 0, "user": "supervisor1", "audience": "supervisor", "unit": None}


def test_token_in_authorization_header_connects(token: Callable[[str], str]) -> None:
    connected, _, hello = _connect(headers=[(b"authorization", f"Token {token('donghu_staff')}".encode())])
    assert connected
    assert hello is not None and hello["audience"] == "unit" and hello["unit"] == "donghu"


def test_token_as_subprotocol_connects_and_the_server_selects_the_app_protocol(
    token: Callable[[str], str],
) -> None:
    connected, subprotocol, hello = _connect(subprotocols=["hotline.v1", f"token.{token('operator1')}"])
    assert connected
    assert subprotocol == "hotline.v1"  # the key is never echoed back when a real protocol is offered
    assert hello is not None and hello["user"] == "operator1"


def test_a_wrong_token_is_refused_even_with_a_valid_session(city: object) -> None:
    connected, code, _ = _connect(
        query="token=not-a-token",
        headers=[(b"cookie", _session_cookie("supervisor1")), (b"origin", b"http://testserver")],
    )
    assert not connected and code == 4401


def test_an_expired_token_is_refused(token: Callable[[str], str], settings: object) -> None:
    key = token("supervisor1")
    ApiToken.objects.filter(digest=api_token_digest(key)).update(created_at=timezone.now() - timedelta(hours=13))
    connected, code, _ = _connect(query=f"token={key}")
    assert not connected and code == 4401


def test_a_deactivated_users_token_is_refused(token: Callable[[str], str]) -> None:
    key = token("rsj_staff")
    User.objects.filter(username="rsj_staff").update(is_active=False)
    connected, _, _ = _connect(query=f"token={key}")
    assert not connected


def test_session_cookie_from_our_own_page_connects(city: object) -> None:
    connected, _, hello = _connect(
        headers=[(b"cookie", _session_cookie("dispatcher1")), (b"origin", b"http://testserver")]
    )
    assert connected
    assert hello is not None and hello["user"] == "dispatcher1" and hello["audience"] == "dispatcher"


def test_session_cookie_from_another_site_is_refused(city: object) -> None:
    """Cross-site WebSocket hijacking: a foreign page cannot ride on the user's cookie."""
    cookie = _session_cookie("dispatcher1")
    connected, code, _ = _connect(headers=[(b"cookie", cookie), (b"origin", b"https://evil.example")])
    assert not connected and code == 4401
    connected, _, _ = _connect(headers=[(b"cookie", cookie)])  # no Origin at all
    assert not connected
