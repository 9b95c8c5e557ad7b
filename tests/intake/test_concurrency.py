"""Two deliveries at the same moment (PostgreSQL, real threads and connections)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client

from tests.intake.conftest import payload, twilio_post
from tickets.core.models import Ticket
from tickets.intake.models import IdempotencyRecord, InboundMessage
from tickets.intake.services import citizen_auth

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


def test_an_intake_still_in_its_transaction_does_not_hold_up_the_next_one(city: Any, monkeypatch: Any) -> None:
    """The day's number is taken before the intake's transaction: while one operator's intake is
    still writing (its ticket and event written, its transaction held open here before the
    commit), another's is stored and answered. Taken inside, the sequence row's lock made every
    intake in the city wait for the one before it to commit."""
    from tickets.accounts.services import api_token_issue
    from tickets.core.services import events
    from tickets.org.models import User

    keys = [api_token_issue(user=User.objects.get(username=n))[0] for n in ("operator1", "operator2")]
    inside, release = threading.Event(), threading.Event()
    first_thread: list[int] = []

    store = events.objects_insert_linked

    def held_open(parent: Any, child: Any, *, link: str) -> Any:
        if threading.get_ident() not in first_thread:
            return store(parent, child, link=link)
        with transaction.atomic():  # the accept's write, with its commit held back
            stored = store(parent, child, link=link)
            inside.set()
            release.wait(timeout=30)
        return stored

    def file(key: str, text: str) -> Any:
        return Client().post(
            "/api/tickets/", {"text": text, "kind": "help"}, content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {key}",
        )  # fmt: skip

    results: dict[str, Any] = {}

    def first() -> None:
        from django.db import connection as thread_connection

        first_thread.append(threading.get_ident())
        try:
            results["first"] = file(keys[0], "幸福小区3号楼电梯停运两天了")
        finally:
            thread_connection.close()

    monkeypatch.setattr(events, "objects_insert_linked", held_open)
    try:
        slow = threading.Thread(target=first)
        slow.start()
        assert inside.wait(timeout=30), "the first intake never reached its ticket row"

        second: dict[str, Any] = {}

        def run_second() -> None:
            from django.db import connection as thread_connection

            try:
                second["response"] = file(keys[1], "人民路与解放路路口红绿灯不亮")
            finally:
                thread_connection.close()

        other = threading.Thread(target=run_second)
        other.start()
        other.join(timeout=20)
        finished_while_first_open = not other.is_alive()
        release.set()
        slow.join(timeout=30)
        other.join(timeout=30)
    finally:
        release.set()

    assert finished_while_first_open, "the second intake waited for the first one's commit"
    assert second["response"].status_code == 201 and results["first"].status_code == 201
    numbers = [results["first"].json()["number"], second["response"].json()["number"]]
    assert numbers[0] < numbers[1] and len(set(numbers)) == 2  # taken in arrival order, unique
