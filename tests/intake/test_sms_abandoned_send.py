"""An SMS whose worker died mid-send (claimed, never recorded) is sent once, never twice.

The Twilio side is the drills' fake REST server driven by the real `twilio` client; the
process-level version of this (a real worker SIGKILLed) is tests/drills/test_worker_killed.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.drills import fake_twilio
from tickets.messaging import tasks
from tickets.messaging.models import SmsMessage, SmsState
from tickets.messaging.services import sms

pytestmark = pytest.mark.drill

BODY = "【12345热线】您的诉求已受理，工单号20261128000042。"


@pytest.fixture
def twilio(settings: Any) -> Iterator[fake_twilio.FakeTwilio]:
    with fake_twilio.FakeTwilio() as fake:
        settings.TWILIO_ACCOUNT_SID = fake_twilio.ACCOUNT
        settings.TWILIO_AUTH_TOKEN = fake_twilio.TOKEN
        settings.TWILIO_FROM_NUMBER = fake_twilio.FROM
        settings.TWILIO_API_BASE_URL = fake.url
        yield fake


def _claimed_by_a_dead_worker(*, reached_twilio: bool, seconds_ago: int) -> SmsMessage:
    message = SmsMessage.objects.create(to_phone="+8613700137000", body=BODY, state=SmsState.QUEUED)
    if reached_twilio:  # the dead worker's request got through before it died
        sms._twilio_create(message)
    claimed_at = timezone.now() - timedelta(seconds=seconds_ago)
    SmsMessage.objects.filter(pk=message.pk).update(state=SmsState.SENDING, attempts=1, updated_at=claimed_at)
    return message


def test_a_send_that_reached_twilio_before_the_crash_is_recorded_not_repeated(city: Any, twilio: Any) -> None:
    message = _claimed_by_a_dead_worker(reached_twilio=True, seconds_ago=600)
    assert tasks.sms_send.apply(args=[message.pk]).get() == SmsState.SENT
    message.refresh_from_db()
    assert twilio.posts == 1 and message.twilio_sid == twilio.messages[0]["sid"]


def test_a_send_lost_before_twilio_is_sent_again_once(city: Any, twilio: Any) -> None:
    message = _claimed_by_a_dead_worker(reached_twilio=False, seconds_ago=600)
    assert tasks.sms_send.apply(args=[message.pk]).get() == SmsState.SENT
    assert tasks.sms_send.apply(args=[message.pk]).get() == "skipped"
    assert twilio.posts == 1 and twilio.bodies_to("+8613700137000") == [BODY]


def test_a_claim_within_its_lease_belongs_to_its_worker(city: Any, twilio: Any) -> None:
    message = _claimed_by_a_dead_worker(reached_twilio=False, seconds_ago=5)
    assert tasks.sms_send.apply(args=[message.pk]).get() == "skipped"  # maybe still sending: leave it
    assert twilio.posts == 0
    assert sms.sms_resend_stale() == []
    later = timezone.now() + timedelta(seconds=600)
    assert sms.sms_resend_stale(now=later) == [message.pk]  # the periodic re-scan picks it up after the lease
