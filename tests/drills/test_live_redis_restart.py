"""Drill: the live feed across a Redis restart and database outages at connect.

A supervisor's socket stays open while the private redis-server is killed and started again
empty (no persistence: the layer's groups and queued messages are gone). Without reconnecting,
the socket gets every event it may see: those filed while Redis was down (their push failed,
they wait in the outbox — no Celery runs here to flush it) and those filed after it came back.
The process's hub rejoins its groups and has each socket catch up from the database
(channels_app.hub, LiveConsumer.resync).

A socket opened while Redis is down, or while the database cannot lend a connection within
the pool's timeout, is closed with 1013 "try again later" — never an unhandled HTTP 500 — and
the server logs a warning, not a traceback (channels_app.handshake).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from channels_app import payloads as p
from tests.drills.conftest import needs_servers, wait_until
from tickets.core.models import TicketEvent
from tickets.live.models import LiveOutbox

pytestmark = [pytest.mark.drill, pytest.mark.slow, needs_servers, pytest.mark.django_db(transaction=True)]

DOWN_TEXTS = [
    "东湖区新华街道幸福小区门口的路灯已经坏了一个多月，晚上出行很不安全，请尽快派人维修。",
    "小区楼下烧烤店每天营业到凌晨两点，噪音和油烟严重影响居民休息，希望城管部门管一管。",
]
BACK_TEXT = "自来水已经停了两天没有任何通知，家里有老人孩子生活很不方便，请问什么时候恢复供水？"


class OneSocket:
    """One socket that never reconnects: what it heard, and whether it was closed."""

    def __init__(self, base: str, token: str) -> None:
        self.opened = contextlib.ExitStack()
        headers = {"Authorization": f"Token {token}"}
        self.ws = self.opened.enter_context(connect(f"ws://{base}/ws/live/", additional_headers=headers))
        self.hello = json.loads(self.ws.recv(timeout=10))
        assert self.hello["type"] == "hello"
        self.heard: list[dict[str, Any]] = []
        self.closed: Exception | None = None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for text in self.ws:
                self.heard.append(json.loads(text))
        except Exception as exc:
            self.closed = exc
        else:
            self.closed = ConnectionError(f"closed by the server: {self.ws.close_code}")

    def heard_created(self, ticket_id: int) -> list[dict[str, Any]]:
        return [m for m in self.heard if m.get("type") == "ticket.created" and m["ticket"]["id"] == ticket_id]

    def close(self) -> None:
        self.opened.close()
        self.thread.join(timeout=10)


def _tokens() -> tuple[str, str]:
    from tickets.accounts.services import api_token_issue
    from tickets.org.models import User

    operator = api_token_issue(user=User.objects.get(username="operator1"))[0]
    supervisor = api_token_issue(user=User.objects.get(username="supervisor1"))[0]
    return operator, supervisor


def _file(base: str, token: str, text: str, phone: str) -> int:
    answer = requests.post(
        f"http://{base}/api/tickets/",
        json={"text": text, "kind": "help", "citizen_name": "张三", "citizen_phone": phone},
        headers={"Authorization": f"Token {token}"},
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def _refused(base: str, token: str) -> int | None:
    """The close code of a socket the server would not serve (an HTTP 500 raises InvalidStatus)."""
    headers = {"Authorization": f"Token {token}"}
    with connect(f"ws://{base}/ws/live/", additional_headers=headers, open_timeout=30) as ws:
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=30)
        return ws.close_code


def test_an_open_socket_hears_every_event_again_after_redis_restarts_without_reconnecting(
    processes: Any, private_redis: Any, city: Any
) -> None:
    operator, supervisor = _tokens()
    # No Celery worker in this drill: the web process routes each ticket right after its commit, so a
    # new ticket's `created` event reaches the live feed (issue 17 pushes it with its routing).
    env = processes.env(redis_url=private_redis.url, HOTLINE_ROUTING_INLINE="1")
    base = processes.uvicorn("web", env)
    client = OneSocket(base, supervisor)
    try:
        warm = _file(base, operator, "新华街道幸福小区的垃圾三天没人清运了，气味很大。", "13900000000")
        wait_until(lambda: client.heard_created(warm), timeout=20, what="a live event before the restart")

        private_redis.stop()
        down = [_file(base, operator, text, f"1390000001{i}") for i, text in enumerate(DOWN_TEXTS)]
        assert LiveOutbox.objects.filter(event__ticket_id__in=down).exists()  # their push failed

        # A new socket now cannot join its groups: refused as "try again later", not a 500.
        assert _refused(base, supervisor) == 1013

        private_redis.start()  # back, empty: the hub's groups are gone
        wait_until(
            lambda: all(client.heard_created(t) for t in down), timeout=30, what="the events of the outage", every=0.2
        )
        back = _file(base, operator, BACK_TEXT, "13900000020")
        wait_until(lambda: client.heard_created(back), timeout=20, what="a live event after the restart")
        assert client.closed is None, f"the socket was closed: {client.closed!r}"
    finally:
        client.close()

    cursors = [m["cursor"] for m in client.heard if m.get("cursor")]
    assert len(cursors) == len(set(cursors)), "an event reached the socket twice"
    expected = {
        event_id
        for event_id, action in TicketEvent.objects.filter(ticket_id__in=[*down, back]).values_list("id", "action")
        if p.SUPERVISOR in p.AUDIENCE.get(p.type_of_action(action) or "", frozenset())
    }
    assert expected and expected <= set(cursors), sorted(expected - set(cursors))
    log = processes.log("web")
    assert "live hub receive failed" in log and "live socket from 127.0.0.1 refused (1013)" in log
    # (Tracebacks of the SMS enqueue while Redis is down are warnings of tickets.messaging.services.sms.)
    assert "Exception in ASGI application" not in log and "ASGI callable" not in log, log[-3000:]


@pytest.fixture
def silent_database() -> Iterator[int]:
    """A port that accepts TCP connections and never answers: a database that hangs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    try:
        yield int(server.getsockname()[1])
    finally:
        server.close()


def test_sockets_that_cannot_get_a_database_connection_in_time_are_closed_with_1013(
    processes: Any, private_redis: Any, silent_database: int, city: Any
) -> None:
    _, supervisor = _tokens()
    env = processes.env(
        redis_url=private_redis.url,
        database_url=f"postgres://postgres@127.0.0.1:{silent_database}/hotline",
        HOTLINE_DB_POOL="1",
        HOTLINE_DB_POOL_MAX="1",
        HOTLINE_DB_POOL_TIMEOUT="1",
    )
    base = processes.uvicorn("web", env, probe="/healthz")  # the database is dead on purpose: never ready
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(_refused(base, supervisor))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == len(threads)
    assert answers == [1013] * len(threads)
    log = processes.log("web")
    assert log.count("live socket from 127.0.0.1 refused (1013)") == len(threads), log[-3000:]
    # (Tracebacks of the SMS enqueue while Redis is down are warnings of tickets.messaging.services.sms.)
    assert "Exception in ASGI application" not in log and "ASGI callable" not in log, log[-3000:]
