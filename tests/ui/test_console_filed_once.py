"""The call form is filed once (an operator's audit: Enter pressed twice 60 ms apart made two tickets,
two dispatches and two 受理 SMS to the caller, and the page showed only the second)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from tickets.core.models import Ticket
from tickets.intake.models import IdempotencyRecord
from tickets.intake.services import idempotency
from tickets.messaging.models import SmsMessage
from tickets.org.models import User

CALL = {"kind": "complaint", "urgency": "normal", "text": "小区门口道路破损严重，雨天积水"}
CALL["citizen_phone"] = "13900083352"


def _operator() -> Client:
    client = Client()
    client.force_login(User.objects.get(username="operator1"))
    return client


def _key(client: Client) -> str:
    found = re.search(r'name="submission" value="([^"]+)"', client.get("/console/").content.decode())
    assert found is not None
    return found.group(1)


@pytest.mark.django_db
def test_the_same_rendered_form_posted_twice_files_one_ticket(city: Any) -> None:
    operator = _operator()
    key = _key(operator)
    first = operator.post("/console/tickets/", {**CALL, "submission": key}, follow=True)
    second = operator.post("/console/tickets/", {**CALL, "submission": key}, follow=True)

    ticket = Ticket.objects.get()
    for answer in (first, second):
        assert f"工单号 {ticket.number}" in answer.content.decode()  # the second says which ticket it is
    assert SmsMessage.objects.filter(ticket=ticket, purpose="received").count() <= 1
    assert _key(operator) != key  # each rendering has its own key

    # The same key with other words: the form shown again for another call is its own ticket.
    operator.post("/console/tickets/", {**CALL, "text": "另一位来电人：路灯不亮已经一周", "submission": key})
    assert Ticket.objects.count() == 2
    # A refused try stores no key: the corrected form with the same key is filed.
    fresh = _key(operator)
    assert operator.post("/console/tickets/", {**CALL, "text": "", "submission": fresh}).status_code == 400
    operator.post("/console/tickets/", {**CALL, "submission": fresh})
    assert Ticket.objects.count() == 3


@pytest.mark.django_db
def test_keys_are_forgotten_after_a_week(city: Any, settings: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    operator = _operator()
    operator.post("/console/tickets/", {**CALL, "submission": _key(operator)})
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(days=8))
    assert idempotency.idempotency_purge() == 1 and not IdempotencyRecord.objects.exists()
