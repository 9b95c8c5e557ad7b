"""Drill: Redis stops while citizens keep calling in.

uvicorn, a Celery worker and a beat run against a private redis-server and this test's
PostgreSQL database; SMS go through the real `twilio` client to a local fake Twilio. Redis is
killed, tickets are filed over the API, Redis comes back empty (no persistence). Every ticket
was stored while Redis was down; every live event reaches the supervisor's socket and every
receipt SMS reaches Twilio once Redis is back — none lost, none twice. The tickets wait in the
routing queue the database holds while Redis is down (no wake-up reaches the routing worker) and
are routed, once each, by beat's periodic run when it is back.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
import requests
from websockets.sync.client import connect

from channels_app import payloads as p
from tests.drills.conftest import needs_servers, wait_until
from tests.drills.fake_twilio import FakeTwilio
from tickets.core.models import Ticket, TicketEvent
from tickets.live.models import LiveOutbox
from tickets.messaging.models import SmsMessage, SmsState

pytestmark = [pytest.mark.drill, pytest.mark.slow, needs_servers, pytest.mark.django_db(transaction=True)]

TEXTS = [
    "东湖区新华街道幸福小区门口的路灯已经坏了一个多月，晚上出行很不安全，请尽快派人维修。",
    "公司拖欠三个月工资一直不发，多次找老板都说没钱，请劳动监察部门帮忙处理。",
    "小区楼下烧烤店每天营业到凌晨两点，噪音和油烟严重影响居民休息，希望城管部门管一管。",
    "孩子上学的路段没有红绿灯，早晚高峰车辆很多，学生过马路非常危险，建议增设信号灯。",
    "自来水已经停了两天没有任何通知，家里有老人孩子生活很不方便，请问什么时候恢复供水？",
]


class LiveClient:
    """A supervisor's socket that reconnects like static/js/live.js and catches up by cursor."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token
        self.live: list[dict[str, Any]] = []  # what arrived over the socket
        self.caught_up: list[dict[str, Any]] = []  # what the catch-up API returned after a reconnect
        self.connections = 0
        self.cursor = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        headers = {"Authorization": f"Token {self.token}"}
        while not self.stopped.is_set():
            try:
                with connect(f"ws://{self.base}/ws/live/", additional_headers=headers, open_timeout=5) as ws:
                    hello = json.loads(ws.recv(timeout=5))
                    assert hello["type"] == "hello"
                    self.connections += 1
                    if self.connections > 1:
                        self._catch_up()
                    self.cursor = max(self.cursor, hello["cursor"])
                    while not self.stopped.is_set():
                        try:
                            message = json.loads(ws.recv(timeout=0.5))
                        except TimeoutError:
                            continue
                        self.live.append(message)
                        self.cursor = max(self.cursor, message.get("cursor") or 0)
            except Exception:  # refused, closed by the server, Redis down: try again shortly
                time.sleep(0.3)

    def _catch_up(self) -> None:
        answer = requests.get(
            f"http://{self.base}/api/events/?after={self.cursor}",
            headers={"Authorization": f"Token {self.token}"},
            timeout=10,
        ).json()
        self.caught_up.extend(answer["events"])

    def heard(self, ticket_id: int, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.live if m.get("type") == kind and m["ticket"]["id"] == ticket_id]

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=10)


def _file(base: str, token: str, text: str, phone: str) -> requests.Response:
    return requests.post(
        f"http://{base}/api/tickets/",
        json={"text": text, "kind": "help", "citizen_name": "张三", "citizen_phone": phone},
        headers={"Authorization": f"Token {token}"},
        timeout=30,
    )


def test_with_redis_down_tickets_are_taken_and_events_and_sms_go_out_once_it_is_back(
    processes: Any, private_redis: Any, city: Any
) -> None:
    from tickets.accounts.services import api_token_issue
    from tickets.org.models import User

    operator = api_token_issue(user=User.objects.get(username="operator1"))[0]
    supervisor = api_token_issue(user=User.objects.get(username="supervisor1"))[0]
    with FakeTwilio() as twilio:
        env = processes.env(redis_url=private_redis.url, **twilio.env())
        # A worker whose broker connection drops during an ack can exit ("Unrecoverable error",
        # kombu's Redis transport): production runs it under systemd's Restart=always, so does this.
        processes.worker("worker", env, concurrency=2, restart=True, wait=False)
        processes.beat("beat", env)
        base = processes.uvicorn("web", env)  # the three start side by side
        processes.wait_ready("worker")
        client = LiveClient(base, supervisor)
        try:
            wait_until(lambda: client.connections == 1, timeout=20, what="the supervisor's socket")
            warm = _file(base, operator, "新华街道幸福小区的垃圾三天没人清运了，气味很大。", "13900000000")
            assert warm.status_code == 201, warm.text
            wait_until(lambda: client.heard(warm.json()["id"], "ticket.created"), timeout=20, what="a live event")

            private_redis.stop()
            started = time.monotonic()
            phones = [f"1390000000{i + 1}" for i in range(len(TEXTS))]
            answers = [_file(base, operator, text, phone) for text, phone in zip(TEXTS, phones, strict=True)]
            intake_seconds = time.monotonic() - started
            assert [a.status_code for a in answers] == [201] * len(TEXTS), [a.text for a in answers]
            ids = [a.json()["id"] for a in answers]
            # Stored, waiting in the routing queue: their `created` events are counted and pushed by
            # the routing batch, which no wake-up reaches while Redis is down.
            assert Ticket.objects.filter(pk__in=ids).exclude(route_state="").count() == len(ids)
            assert not any(client.heard(i, "ticket.created") for i in ids)

            private_redis.start()  # back, and empty: queues and socket groups are gone

            def everything_arrived() -> bool:
                heard = all(client.heard(i, "ticket.created") for i in ids)
                sent = all(twilio.bodies_to(f"+86{p}") for p in phones)
                routed = not Ticket.objects.filter(pk__in=ids).exclude(route_state="").exists()
                return heard and sent and routed

            wait_until(everything_arrived, timeout=45, what="events and SMS after Redis came back", every=0.5)
            # A socket may catch up through its cursor before the outbox's periodic push takes the rows
            # (it leaves rows younger than RETRY_AFTER to their own sender): wait until they are gone.
            wait_until(
                lambda: not LiveOutbox.objects.filter(event__ticket_id__in=ids).exists(),
                timeout=60,
                what="the live outbox drained",
                every=0.5,
            )
            time.sleep(5)  # two more rounds of every periodic re-send: nothing may arrive twice
        finally:
            client.close()

    for ticket_id, phone in zip(ids, phones, strict=True):
        assert len(client.heard(ticket_id, "ticket.created")) == 1
        bodies = twilio.bodies_to(f"+86{phone}")  # 受理, and 转办 if dispatched after it: each once
        assert len(bodies) == len(set(bodies)) and sum("已受理" in b for b in bodies) == 1, bodies
    decisions = TicketEvent.objects.filter(ticket_id__in=ids, action__in=["dispatch", "await_dispatch"])
    assert sorted(decisions.values_list("ticket_id", flat=True)) == sorted(ids)  # routed, each once
    cursors = [m["cursor"] for m in client.live if m.get("cursor")]
    assert len(cursors) == len(set(cursors)), "an event reached the socket twice"
    assert not LiveOutbox.objects.filter(event__ticket_id__in=ids).exists()
    assert set(SmsMessage.objects.filter(ticket_id__in=ids).values_list("state", flat=True)) == {SmsState.SENT}
    # Every event the supervisor may see about these tickets arrived live or by the catch-up.
    received = {m["cursor"] for m in client.live + client.caught_up if m.get("cursor")}
    expected = {
        event_id
        for event_id, action in TicketEvent.objects.filter(ticket_id__in=ids).values_list("id", "action")
        if p.SUPERVISOR in p.AUDIENCE.get(p.type_of_action(action) or "", frozenset())
    }
    assert expected and expected <= received, sorted(expected - received)
    assert intake_seconds < 5 * len(TEXTS), f"intake with Redis down took {intake_seconds:.1f}s"
