"""A supervision notice reaches its liaison once, whatever happens to the task that sends it."""

from __future__ import annotations

import pytest
import time_machine
from django.test import TestCase

from tests.sla.conftest import Dispatch, local
from tickets.messaging.models import SmsMessage
from tickets.supervision.models import NoticeSmsStatus, Supervision
from tickets.supervision.services import scanner, supervision

pytestmark = pytest.mark.drill


def _scan_losing_the_fanout(moment: object) -> list[int]:
    """A scanner tick whose fan-out task never runs (broker down at commit, worker lost)."""
    lost: list[int] = []
    with time_machine.travel(moment, tick=False), TestCase.captureOnCommitCallbacks(execute=True):
        scanner.deadlines_scan(fanout=lambda sups, events: lost.extend(sups))
    return lost


def test_a_notice_whose_fanout_was_lost_is_sent_by_the_rescan_once(dispatch: Dispatch) -> None:
    dispatch(local(2025, 11, 3, 9, 0))
    [lost] = _scan_losing_the_fanout(local(2025, 11, 4, 10, 0))  # the 签收 reminder
    notice = Supervision.objects.get(pk=lost)
    assert notice.sms_status == NoticeSmsStatus.PENDING and not SmsMessage.objects.filter(body=notice.text).exists()

    with time_machine.travel(local(2025, 11, 4, 10, 0, 30), tick=False):
        assert supervision.supervisions_notify_pending() == []  # too fresh: its own task may still come
    with time_machine.travel(local(2025, 11, 4, 10, 5), tick=False), TestCase.captureOnCommitCallbacks(execute=True):
        assert supervision.supervisions_notify_pending() == [lost]
        assert supervision.supervisions_notify_pending() == []  # the second tick finds nothing to do
    notice.refresh_from_db()
    assert notice.sms_status == NoticeSmsStatus.SENT
    assert SmsMessage.objects.filter(body=notice.text, to_phone="+8613800138000").count() == 1


def test_a_fanout_task_run_twice_sends_each_notice_once(dispatch: Dispatch) -> None:
    dispatch(local(2025, 11, 3, 9, 0))
    lost = _scan_losing_the_fanout(local(2025, 11, 4, 10, 0))
    with TestCase.captureOnCommitCallbacks(execute=True):
        supervision.supervisions_fanout(lost, [])
        supervision.supervisions_fanout(lost, [])  # redelivered after its worker died (acks_late)
    notice = Supervision.objects.get(pk=lost[0])
    assert SmsMessage.objects.filter(body=notice.text).count() == 1
