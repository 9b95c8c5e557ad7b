"""Two deliveries at the same moment (PostgreSQL, real threads and connections)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from tests.intake.conftest import payload, twilio_post
from tickets.models import IdempotencyRecord, InboundMessage, Ticket
from tickets.services import citizen_auth

pytestmark = [pytest.mark.postgres, pytest.mark.drill, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL for real concurrent transactions")


def at_once(*jobs: Callable[[], Any]) -> list[Any]:
    """Run the jobs in threads released together; each thread has its own DB connection."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(i: int, job: Callable[[], Any]) -> None:
        from django.db import connection as thread_connection

        try:
            barrier.wait(timeout=10)
            results[i] = job()
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return results


def test_the_same_sms_delivered_twice_at_once_makes_one_ticket_and_one_answer(city: Any) -> None:
    params = payload("sms_incoming")
    first, second = at_once(
        lambda: twilio_post(Client(), "/webhooks/twilio/sms/", params),
        lambda: twilio_post(Client(), "/webhooks/twilio/sms/", params),
    )

    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert Ticket.objects.count() == 1
    assert InboundMessage.objects.count() == 1


def test_the_same_call_answered_twice_at_once_makes_one_draft(city: Any) -> None:
    twilio_post(Client(), "/webhooks/twilio/voice/", payload("voice_incoming"))
    url = "/webhooks/twilio/voice/gather/?step=matter&kind=help"
    first, second = at_once(
        lambda: twilio_post(Client(), url, payload("voice_gather_speech")),
        lambda: twilio_post(Client(), url, payload("voice_gather_speech")),
    )

    assert first.content == second.content
    assert Ticket.objects.count() == 1


def test_two_parts_of_a_split_sms_arriving_together_make_one_draft(city: Any) -> None:
    part1 = payload("sms_incoming", MessageSid="SMsplit1", Body="园区社区门口路灯坏了一个多月，")
    part2 = payload("sms_incoming", MessageSid="SMsplit2", Body="晚上很黑，请尽快修复。")
    at_once(
        lambda: twilio_post(Client(), "/webhooks/twilio/sms/", part1),
        lambda: twilio_post(Client(), "/webhooks/twilio/sms/", part2),
    )

    ticket = Ticket.objects.get()
    assert "路灯" in ticket.text and "尽快修复" in ticket.text


def test_an_app_submit_retried_at_once_with_one_idempotency_key_files_once(city: Any) -> None:
    key, _ = citizen_auth.session_create(phone="+8613600136000")
    body = {"kind": "help", "text": "小区门口下水道堵塞，污水外溢", "citizen_address": "滨江区园区社区"}

    def submit() -> Any:
        from rest_framework.test import APIClient

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_IDEMPOTENCY_KEY="retry-1")
        return client.post("/api/app/tickets/", body, format="json")

    first, second = at_once(submit, submit)

    assert first.status_code == second.status_code == 201
    assert first.json()["number"] == second.json()["number"]
    assert Ticket.objects.count() == 1 and IdempotencyRecord.objects.count() == 1
