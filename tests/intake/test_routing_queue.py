"""Accepted at once, routed behind: what the citizen and the operator notice of the routing queue."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import OperationalError
from django.test import Client
from rest_framework.test import APIClient

from tickets.core.actors import Actor
from tickets.core.models import RouteState, Ticket, TicketEvent
from tickets.core.services import workflow
from tickets.intake.services import intake, routing_batch
from tickets.messaging.models import SmsMessage
from tickets.org.models import User

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def queued(settings: Any) -> None:
    settings.ROUTING_INLINE = False  # accepted here; the test plays the routing worker
    settings.ROUTING_WAKE_DELAY = 3600.0
    settings.ROUTING_NOTICE_WAIT_SECONDS = 5


def _accept(units: Any, cats: Any) -> Ticket:
    return intake.ticket_create(
        actor=Actor.of(User.objects.get(username="operator1")),
        channel="phone",
        text="小区门口道路破损严重，雨天积水，影响出行。",
        citizen_phone="13812341234",
        category=cats["zswr"],
        jurisdiction=units["donghu"],
    )


def test_routed_within_seconds_the_citizen_gets_one_receipt_naming_the_unit(queued: None, units, cats) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        ticket = _accept(units, cats)
        assert ticket.route_state == RouteState.PENDING and ticket.state == "registered"
        assert not SmsMessage.objects.filter(ticket=ticket).exists()  # nothing sent before routing
        clock.shift(timedelta(seconds=1))
        assert routing_batch.routing_tell_waiting() == 0
        [routed] = routing_batch.tickets_route_pending()
    assert routed.state == "in_progress" and routed.route_state == RouteState.DONE
    [notice] = SmsMessage.objects.filter(ticket=ticket)
    assert notice.purpose == "received" and f"已转交{units['donghu'].name}办理" in notice.body


def test_routed_late_the_receipt_goes_first_without_the_unit_and_the_dispatch_notice_follows(
    queued: None, units, cats
) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        ticket = _accept(units, cats)
        clock.shift(timedelta(seconds=10))  # the routing worker is slow or down
        assert routing_batch.routing_tell_waiting() == 1
        assert routing_batch.routing_tell_waiting() == 0  # told once
        [receipt] = SmsMessage.objects.filter(ticket=ticket)
        assert receipt.purpose == "received" and ticket.number in receipt.body and "已转交" not in receipt.body
        routing_batch.tickets_route_pending()
    notices = list(SmsMessage.objects.filter(ticket=ticket).order_by("id").values_list("purpose", "body"))
    assert [purpose for purpose, _ in notices] == ["received", "dispatched"]
    assert f"已转交{units['donghu'].name}办理" in notices[1][1]


def test_a_ticket_answered_before_the_router_came_leaves_the_queue_without_routing(queued: None, units, cats) -> None:
    ticket = _accept(units, cats)
    operator = Actor.of(User.objects.get(username="operator1"))
    workflow.ticket_answer_directly(ticket=ticket, actor=operator, answer="已电话答复：请拨打物业电话报修。")
    [claimed] = routing_batch.tickets_route_pending()
    assert claimed.state == "answered_directly"
    ticket.refresh_from_db()
    assert ticket.route_state == RouteState.DONE and not ticket.assignments.exists()
    assert not TicketEvent.objects.filter(ticket=ticket, action__in=["dispatch", "await_dispatch"]).exists()
    assert routing_batch.tickets_route_pending() == []  # the queue is empty


def test_the_dispatcher_queue_leaves_the_worker_its_tickets_and_lists_those_it_left_too_long(
    queued: None, settings: Any, units, cats, api
) -> None:
    """待派单 in a surge: tickets the routing worker is about to route are not listed (rows would
    appear and vanish under the dispatcher's pointer); one the worker has left too long is, marked,
    and a person's 派单 stands when the worker comes back."""
    dispatcher, supervisor = Client(), Client()
    dispatcher.force_login(User.objects.get(username="dispatcher1"))
    supervisor.force_login(User.objects.get(username="supervisor1"))

    def listed() -> tuple[set[int], str]:
        rows = api("dispatcher1").get("/api/dispatch-queue/").json()["results"]
        return {r["id"] for r in rows}, dispatcher.get("/console/panels/queue/").content.decode()

    def board() -> str:
        return supervisor.get("/board/fragment/").content.decode()

    with time_machine.travel(T0, tick=False) as clock:
        ticket = _accept(units, cats)
        ids, panel = listed()
        assert ticket.pk not in ids and ticket.number not in panel
        clock.shift(timedelta(seconds=settings.ROUTING_HANDOVER_SECONDS - 1))
        ids, panel = listed()
        assert ticket.pk not in ids and ticket.number not in panel
        assert "自动分派积压" not in board()
        clock.shift(timedelta(seconds=2))  # the worker is down or far behind: people take over
        ids, panel = listed()
        assert ticket.pk in ids and ticket.number in panel and "自动分派未完成" in panel
        assert "自动分派积压：1 件工单受理后超过 60 秒仍未完成自动分派" in board()  # the supervisors are told
        answer = dispatcher.post(f"/console/tickets/{ticket.pk}/dispatch/", {"category": cats["zswr"].pk})
        assert answer.status_code == 302
        [back] = routing_batch.tickets_route_pending()  # the worker, back, leaves it as the person did
        assert back.pk == ticket.pk
    ticket.refresh_from_db()
    assert ticket.state == "in_progress" and ticket.route_state == RouteState.DONE
    assert ticket.events.filter(action="dispatch").count() == 1
    ids, panel = listed()
    assert ticket.pk not in ids and ticket.number not in panel
    assert "自动分派积压" not in board()


@pytest.mark.django_db(transaction=True)  # the accept's own commit, as in a server
def test_an_inline_routing_failure_after_the_commit_still_answers_201(units, cats, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Embedded: the database failing between the accept's commit and the routing must not turn the
    answer into an error the caller would retry with a second ticket; the periodic run routes it."""
    settings.ROUTING_INLINE = True

    def down(**kwargs: Any) -> list[Ticket]:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(routing_batch, "tickets_route_pending", down)
    client = APIClient()
    client.force_authenticate(User.objects.get(username="operator1"))
    answer = client.post("/api/tickets/", {"channel": "phone", "text": "小区门口的路灯坏了一个星期"}, format="json")
    assert answer.status_code == 201, answer.content
    ticket = Ticket.objects.get(number=answer.json()["number"])
    assert ticket.route_state == RouteState.PENDING
    monkeypatch.undo()
    assert [t.pk for t in routing_batch.tickets_route_pending()] == [ticket.pk]  # the periodic run's call
