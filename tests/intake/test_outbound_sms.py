"""Outbound SMS through the real `twilio` client against a local fake Twilio REST server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
import time_machine
from django.conf import settings as django_settings
from django.utils import timezone

from tests.intake.conftest import payload, twilio_post
from tickets.core.actors import Actor
from tickets.core.models import Ticket
from tickets.intake.services import intake
from tickets.messaging import tasks
from tickets.messaging.models import SmsMessage
from tickets.messaging.services import sms

ACCOUNT = "AC" + "0" * 32


class FakeTwilio:
    """Answers POST …/Messages.json like Twilio's REST API; records every request it got."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 201
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                fake.requests.append({"path": self.path, "form": form, "auth": self.headers.get("Authorization", "")})
                sid = f"SM{len(fake.requests):032d}"
                if fake.status >= 400:
                    body = {
                        "code": 20500 if fake.status >= 500 else 21211,
                        "message": "fake failure",
                        "status": fake.status,
                    }
                else:
                    body = {
                        "sid": sid,
                        "status": "queued",
                        "to": form.get("To"),
                        "body": form.get("Body"),
                        "account_sid": ACCOUNT,
                    }
                data = json.dumps(body).encode()
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeTwilio:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_twilio(settings: Any) -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        settings.TWILIO_ACCOUNT_SID = ACCOUNT
        settings.TWILIO_FROM_NUMBER = "+8610690012345"
        settings.TWILIO_API_BASE_URL = fake.url
        yield fake


def test_a_message_is_sent_through_the_twilio_client_with_a_status_callback(city: Any, fake_twilio: FakeTwilio) -> None:
    message = sms.sms_enqueue(to="13600136000", body="【12345热线】您的工单已受理。", purpose="received")

    tasks.sms_send.apply(args=[message.pk])

    assert len(fake_twilio.requests) == 1
    got = fake_twilio.requests[0]
    assert got["path"] == f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    assert got["form"]["To"] == "+8613600136000"
    assert got["form"]["From"] == "+8610690012345"
    assert got["form"]["Body"] == "【12345热线】您的工单已受理。"
    assert got["form"]["StatusCallback"] == "https://12345.example.cn/webhooks/twilio/sms/status/"
    assert got["auth"].startswith("Basic ")
    message.refresh_from_db()
    assert (message.state, message.attempts, message.twilio_sid) == ("sent", 1, "SM" + "1".zfill(32))

    # The delivery report for that sid lands on the same row.
    report = payload("sms_status_delivered", MessageSid=message.twilio_sid, To=message.to_phone)
    assert twilio_post(django_client(), "/webhooks/twilio/sms/status/", report).status_code == 200
    message.refresh_from_db()
    assert message.state == "delivered"


def django_client() -> Any:
    from django.test import Client

    return Client()


def test_a_server_error_is_retried_with_backoff_and_ends_in_a_recorded_failure(
    city: Any, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.status = 500
    message = sms.sms_enqueue(to="+8613600136000", body="测试短信", purpose="other")

    result = tasks.sms_send.apply(args=[message.pk])  # retries run inline when applied eagerly

    assert len(fake_twilio.requests) == django_settings.SMS_MAX_ATTEMPTS
    message.refresh_from_db()
    assert message.state == "failed" and message.attempts == django_settings.SMS_MAX_ATTEMPTS
    assert "fake failure" in message.last_error
    assert result.result == "failed"


def test_a_refused_number_is_not_retried(city: Any, fake_twilio: FakeTwilio) -> None:
    fake_twilio.status = 400
    message = sms.sms_enqueue(to="+8613600136000", body="测试短信", purpose="other")

    tasks.sms_send.apply(args=[message.pk])

    assert len(fake_twilio.requests) == 1
    message.refresh_from_db()
    assert message.state == "failed"


def test_backoff_grows_exponentially() -> None:
    delays = [sms.retry_delay(n) for n in range(1, 5)]
    base = django_settings.SMS_RETRY_BASE_SECONDS
    for n, delay in enumerate(delays):
        assert base * 2**n * 0.8 <= delay <= base * 2**n * 1.2


def test_a_message_is_never_sent_twice(city: Any, fake_twilio: FakeTwilio) -> None:
    message = sms.sms_enqueue(to="+8613600136000", body="只发一次", purpose="other")
    tasks.sms_send.apply(args=[message.pk])
    tasks.sms_send.apply(args=[message.pk])  # a duplicate delivery of the task

    assert len(fake_twilio.requests) == 1


def test_without_credentials_messages_go_to_the_outbox_shown_to_staff(city: Any, client: Any, user: Any) -> None:
    message = sms.sms_enqueue(to="+8613600136000", body="【12345热线】离线演示短信", purpose="other")
    tasks.sms_send.apply(args=[message.pk])

    message.refresh_from_db()
    assert message.state == "outbox" and message.sent_at is not None
    client.force_login(user("operator1"))
    page = client.get("/sms-outbox/")
    assert page.status_code == 200 and "离线演示短信" in page.content.decode()
    assert 'href="/console/"' in page.content.decode()  # the staff header: back to 话务台 in one click
    client.force_login(user("rsj_staff"))
    assert client.get("/sms-outbox/").status_code == 403
    client.logout()  # signed out: the staff login, where operators' accounts work (not the admin's)
    assert client.get("/sms-outbox/")["Location"] == "/login/?next=/sms-outbox/"


@pytest.mark.skipif(not django_settings.EMBEDDED, reason="tasks run in-process only in the embedded mode")
def test_the_message_is_written_in_the_transaction_and_sent_after_commit(
    city: Any, user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ticket = intake.ticket_create(
            actor=Actor.citizen(),
            channel="web",
            text="反映小区路灯不亮",
            citizen_phone="+8613600136000",
        )
        message = SmsMessage.objects.get(ticket=ticket)
        assert message.state == "queued" and ticket.number in message.body
    for callback in callbacks:
        callback()
    message.refresh_from_db()
    assert message.state == "outbox"


def test_queued_messages_the_broker_lost_are_re_sent_after_a_minute(city: Any) -> None:
    message = sms.sms_enqueue(to="+8613600136000", body="丢失的短信", purpose="other")
    assert sms.sms_resend_stale() == []  # too fresh: its own task may still be on the way

    with time_machine.travel(timezone.now() + timedelta(seconds=90)):
        found = sms.sms_resend_stale()

    assert found == [message.pk]
    if django_settings.EMBEDDED:  # the eager task ran; with Redis a worker would
        message.refresh_from_db()
        assert message.state == "outbox"


def test_received_dispatched_and_rating_request_messages_follow_the_workflow(city: Any, ticket_in_rating: Any) -> None:
    ticket: Ticket = ticket_in_rating("+8613600136000")
    bodies = dict(SmsMessage.objects.filter(ticket=ticket).values_list("purpose", "body"))

    # Routed as it was taken: one 受理 notice names the unit (no second SMS in the same second).
    assert set(bodies) == {"received", "rating_request"}
    assert ticket.number in bodies["received"] and "已受理" in bodies["received"]
    assert "已转交市人社局办理" in bodies["received"]
    assert "https://12345.example.cn/citizen/rate/" in bodies["rating_request"]


def test_a_ticket_dispatched_later_by_a_dispatcher_gets_its_own_dispatch_notice(
    city: Any, user: Any, units: Any
) -> None:
    from tickets.core.services import workflow

    ticket = intake.ticket_create(
        actor=Actor.of(user("operator1")), channel="phone", text="小区门口下水道堵了", citizen_phone="13600136001"
    )
    assert ticket.state == "dispatching"  # no model, no category: a dispatcher decides
    workflow.ticket_dispatch(ticket=ticket, actor=Actor.of(user("dispatcher1")), lead_unit=units["zjj"])

    bodies = dict(SmsMessage.objects.filter(ticket=ticket).values_list("purpose", "body"))
    assert set(bodies) == {"received", "dispatched"}
    assert "已受理" in bodies["received"] and "转交" not in bodies["received"]
    assert f"工单{ticket.number}已转交{units['zjj'].name}办理" in bodies["dispatched"]


def _wake_up_batch(n: int, stopped: str) -> list[int]:
    ids = [sms.sms_enqueue(to=f"+86136{i:08d}", body=f"【12345热线】批量{i}", purpose="received").pk for i in range(n)]
    ids.append(sms.sms_enqueue(to=stopped, body="【12345热线】退订之后", purpose="received").pk)
    return ids


def test_a_wake_ups_batch_is_sent_each_once_and_the_opted_out_one_suppressed(
    city: Any, fake_twilio: FakeTwilio
) -> None:
    ids = _wake_up_batch(5, stopped="+8613900139000")
    sms.sms_opt_out(phone="+8613900139000")  # 退订 after the 受理 SMS was queued
    SmsMessage.objects.filter(pk=ids[-1]).update(state="queued")  # as if the opt-out came while it was queued

    assert tasks.sms_send_many.apply(args=[ids]).result == 0
    tasks.sms_send_many.apply(args=[ids])  # the task delivered twice (acks_late)

    assert sorted(r["form"]["To"] for r in fake_twilio.requests) == [f"+86136{i:08d}" for i in range(5)]
    states = dict(SmsMessage.objects.filter(pk__in=ids).values_list("pk", "state"))
    assert [states[pk] for pk in ids] == ["sent"] * 5 + ["suppressed"]
    assert set(SmsMessage.objects.filter(pk__in=ids[:5]).values_list("attempts", flat=True)) == {1}


def test_a_batch_to_the_outbox_costs_the_same_statements_for_3_messages_as_for_30(city: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for n in (3, 30):
        ids = _wake_up_batch(n, stopped=f"+86139{n:08d}")
        sms.sms_opt_out(phone=f"+86139{n:08d}")
        SmsMessage.objects.filter(pk=ids[-1]).update(state="queued")
        with CaptureQueriesContext(connection) as queries:
            results = sms.sms_send_many(message_ids=ids)
        counts.append(len(queries.captured_queries))
        assert [results[pk].state for pk in ids] == ["outbox"] * n + ["suppressed"]
    assert counts[0] == counts[1]
