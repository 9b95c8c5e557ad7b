"""A routing batch pushes its live events from the objects it holds, not by reading them back: the
envelopes are the ones the history (the catch-up API, a read from the database) gives for them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from channels_app import broadcast
from channels_app.envelopes import envelopes_build, event_rows
from tickets.accounts.services import api_token_issue
from tickets.core.models import TicketEvent
from tickets.intake.services import routing_batch
from tickets.org.models import Category, User
from tickets.routing.services import gazetteer

pytestmark = pytest.mark.django_db(transaction=True)  # the push runs after a real commit

TEXTS = [
    # sure: dispatched to a unit by the catalogue
    "东湖区阳光花园小区3栋电梯一个月坏了四次，物业每次只是简单重启，请相关部门督促物业尽快维修电梯。",
    # too little to go on: waits for a dispatcher, with the classifier's suggestions
    "qwerty asdf zxcv",
    # filed with a category by the operator
    "楼下饭店油烟直排，晚上噪音很大，影响休息。",
]


@pytest.fixture
def operator_api(city: object, demo_model: object, settings: Any) -> APIClient:
    settings.ROUTING_INLINE = False  # accepted here, routed by the batch the test runs
    settings.ROUTING_WAKE_DELAY = 3600.0
    gazetteer.gazetteer_invalidate()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=User.objects.get(username='operator1'))[0]}")
    return client


def _wire(envelopes: Any) -> Any:
    return json.loads(json.dumps(envelopes))  # as the channel layer carries them (tuples are lists)


def test_a_batchs_envelopes_come_from_its_objects_and_equal_the_history(
    operator_api: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = []
    for n, text in enumerate(TEXTS):
        body = {"text": text, "citizen_phone": f"1390000010{n}", "citizen_name": "王五", "citizen_address": "人民路"}
        if n == 2:
            body["category"] = Category.objects.filter(is_active=True).order_by("id").values_list("pk", flat=True)[0]
        response = operator_api.post("/api/tickets/", body, format="json")
        assert response.status_code == 201, response.content
        ids.append(response.json()["id"])

    pushes: list[tuple[list[int], list[int]]] = []
    sent: list[Any] = []
    push = broadcast.events_push

    def spy_push(event_ids: Any, *, in_hand: Any = ()) -> None:
        pushes.append((list(event_ids), [event.pk for event in in_hand]))
        push(event_ids, in_hand=in_hand)

    monkeypatch.setattr(broadcast, "events_push", spy_push)
    monkeypatch.setattr(broadcast, "_send", lambda envelopes: sent.extend(envelopes))
    routed = routing_batch.tickets_route_pending()
    assert sorted(t.pk for t in routed) == sorted(ids)

    events = list(TicketEvent.objects.filter(ticket_id__in=ids).order_by("id").values_list("id", flat=True))
    assert pushes == [([], events)]  # one push, every event from the objects in hand
    history = envelopes_build(event_rows().filter(ticket_id__in=ids).order_by("id"))
    kinds = {envelope["payload"]["type"] for envelope in history}
    assert {"ticket.created", "ticket.dispatched", "ticket.needs_dispatch"} <= kinds
    assert _wire(sent) == _wire(history)


def test_an_event_without_its_rows_loaded_is_read_back(operator_api: APIClient) -> None:
    """Objects an envelope cannot be built from without more queries go by id, as before."""
    response = operator_api.post("/api/tickets/", {"text": TEXTS[0], "citizen_phone": "13900000199"}, format="json")
    found = TicketEvent.objects.filter(ticket_id=response.json()["id"], action="created")
    assert not broadcast._in_hand(found.get())  # neither its ticket nor its actor loaded
    event = found.select_related("actor").get()
    assert not broadcast._in_hand(event)
    event.ticket  # noqa: B018 - loads the ticket (its category and lead unit are empty)
    assert broadcast._in_hand(event)
