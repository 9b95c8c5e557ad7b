"""Drill: a Celery worker is SIGKILLed in the middle of sending an SMS.

The task comes back (acks_late: the message stays unacknowledged in Redis and returns to the
queue after the visibility timeout) and a second worker runs it again. Its effect happens once:
if the SMS had reached Twilio before the crash, the re-run finds it there and records it
instead of sending a second one; if it never arrived, the re-run sends it.
"""

from __future__ import annotations

from typing import Any

import pytest
from celery import Celery
from django.utils import timezone

from tests.drills.conftest import needs_servers, wait_until
from tests.drills.fake_twilio import FakeTwilio
from tickets.messaging.models import SmsMessage, SmsPurpose, SmsState

pytestmark = [pytest.mark.drill, pytest.mark.slow, needs_servers, pytest.mark.django_db(transaction=True)]

PHONE = "+8613800138000"


@pytest.mark.parametrize("reached_twilio", [True, False], ids=["sent-before-crash", "lost-before-twilio"])
def test_a_worker_killed_mid_send_sends_the_sms_exactly_once(
    processes: Any, private_redis: Any, reached_twilio: bool
) -> None:
    body = f"【12345热线】工单20261128000001已受理（{'到达' if reached_twilio else '未到达'}）"
    message = SmsMessage.objects.create(
        to_phone=PHONE, body=body, purpose=SmsPurpose.RECEIVED, state=SmsState.QUEUED, next_attempt_at=timezone.now()
    )
    with FakeTwilio() as twilio:
        twilio.hang, twilio.keep_hung = True, reached_twilio
        env = processes.env(
            redis_url=private_redis.url,
            HOTLINE_CELERY_VISIBILITY_TIMEOUT="4",
            HOTLINE_SMS_SENDING_LEASE_SECONDS="2",
            **twilio.env(),
        )
        processes.worker("worker-a", env)
        broker = Celery(broker=private_redis.url)
        try:
            broker.send_task("tickets.tasks.sms_send", args=[message.pk])
        finally:
            broker.close()

        assert twilio.hung.wait(30), processes.log("worker-a")[-3000:]  # worker-a is inside the Twilio call
        processes.kill("worker-a")  # SIGKILL, whole process group: no chance to ack or clean up
        twilio.hang = False
        message.refresh_from_db()
        assert message.state == SmsState.SENDING  # claimed by the dead worker

        processes.worker("worker-b", env)
        wait_until(
            lambda: SmsMessage.objects.get(pk=message.pk).state == SmsState.SENT,
            timeout=40,
            what="the SMS sent after the crash",
        )

    message.refresh_from_db()
    assert "tickets.tasks.sms_send" in processes.log("worker-b")  # the task ran again on worker-b
    assert twilio.bodies_to(PHONE) == [body]  # Twilio holds it once
    assert twilio.posts == (1 if reached_twilio else 2)  # re-sent only when the first never arrived
    assert message.twilio_sid == twilio.messages[0]["sid"]
