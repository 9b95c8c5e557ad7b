"""统一督办 scanner with a controlled clock: each level fires once, a moved deadline cancels
the pending 催办, a paused clock does not fire, and two scanners at once fire once in total."""

from __future__ import annotations

import importlib.util
import threading
from datetime import UTC, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import TestCase

from tests.sla.conftest import Dispatch, fresh, local, staff
from tickets.core.actors import Actor
from tickets.core.models import Assignment, TicketEvent
from tickets.core.services import workflow
from tickets.org.models import User
from tickets.sla.services import clock
from tickets.supervision.models import Supervision, SupervisionLevel
from tickets.supervision.services import scanner as supervision_scanner


def eod(y: int, m: int, d: int):
    return local(y, m, d, 23, 59, 59).astimezone(UTC)


def scan_at(moment):
    """One tick at `moment`, running the after-commit fan-out (live push, SMS) as a worker would."""
    with time_machine.travel(moment, tick=False), TestCase.captureOnCommitCallbacks(execute=True):
        return supervision_scanner.deadlines_scan()


def levels(a: Assignment) -> list[str]:
    return list(Supervision.objects.filter(assignment=a).order_by("id").values_list("level", flat=True))


def test_each_level_fires_once_at_its_time(dispatch: Dispatch) -> None:
    a = dispatch(local(2025, 9, 30, 10, 0))  # due Oct 14; 催办 Oct 13 end; 督办 Oct 15; 通报 Oct 22
    workflow.assignment_sign(assignment=a, actor=staff("rsj"))
    assert scan_at(local(2025, 10, 13, 23, 0)).total == 0
    assert scan_at(local(2025, 10, 14, 0, 0)).fired["warn"] == 1
    assert scan_at(local(2025, 10, 14, 12, 0)).total == 0  # once only
    assert scan_at(local(2025, 10, 14, 23, 59)).total == 0
    assert scan_at(local(2025, 10, 15, 0, 1)).fired["supervise"] == 1
    assert scan_at(local(2025, 10, 16, 0, 1)).total == 0
    assert scan_at(local(2025, 10, 22, 0, 1)).fired["notice"] == 1
    assert scan_at(local(2025, 12, 1)).total == 0
    assert levels(a) == [SupervisionLevel.REMINDER, SupervisionLevel.SUPERVISION, SupervisionLevel.PUBLIC_NOTICE]
    actions = list(
        TicketEvent.objects.filter(assignment=a, action__in=["sla.warning", "sla.overdue", "supervision.issued"])
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["sla.warning", "sla.overdue", "supervision.issued"]
    reminder = Supervision.objects.get(assignment=a, level=SupervisionLevel.REMINDER)
    assert a.ticket.number in reminder.text and "市人社局" in reminder.text and "2025年10月14日 23:59" in reminder.text
    assert reminder.recipients == [{"kind": "liaison", "name": "市人社局联络员", "phone": "+8613800138000"}]
    assert reminder.issued_by_label == "scheduler"
    if importlib.util.find_spec("tickets.messaging.services.sms") is None:  # before the SMS service is merged
        assert reminder.sms_status == "no_service"
    else:  # the liaison's SMS is queued with the notification service
        from tickets.messaging.models import SmsMessage  # type: ignore[attr-defined]

        assert reminder.sms_status == "sent" and reminder.notified_at is not None
        assert SmsMessage.objects.filter(body=reminder.text, to_phone="+8613800138000").count() == 1


def test_an_unsigned_dispatch_is_chased_to_sign_once(dispatch: Dispatch) -> None:
    a = dispatch(local(2025, 11, 3, 9, 0))  # sign within 24 h
    assert scan_at(local(2025, 11, 4, 8, 59)).fired["sign"] == 0
    assert scan_at(local(2025, 11, 4, 9, 1)).fired["sign"] == 1
    assert scan_at(local(2025, 11, 4, 10, 0)).fired["sign"] == 0
    notice = Supervision.objects.get(assignment=a)
    assert notice.level == SupervisionLevel.SIGN_REMINDER and "签收" in notice.text
    assert TicketEvent.objects.get(assignment=a, action="sla.overdue").data["clock"] == "sign"


def test_a_signed_dispatch_is_not_chased_to_sign(dispatch: Dispatch) -> None:
    a = dispatch(local(2025, 11, 3, 9, 0))
    with time_machine.travel(local(2025, 11, 3, 9, 30), tick=False):
        workflow.assignment_sign(assignment=a, actor=staff("rsj"))
    assert scan_at(local(2025, 11, 4, 9, 1)).fired["sign"] == 0


def test_an_extension_moves_the_deadline_and_cancels_the_pending_reminder(dispatch: Dispatch) -> None:
    a = dispatch(local(2025, 11, 3, 9, 0))  # due Mon Nov 10; 催办 due Fri Nov 7 end of day
    unit = staff("rsj")
    with time_machine.travel(local(2025, 11, 5, 9, 0), tick=False):
        workflow.assignment_sign(assignment=a, actor=unit)
        workflow.assignment_request_extension(assignment=a, actor=unit, until=eod(2025, 11, 17), reason="需现场勘验")
        workflow.assignment_decide_extension(
            assignment=a, actor=Actor.of(User.objects.get(username="dispatcher1")), approve=True
        )
    assert scan_at(local(2025, 11, 8, 9, 0)).total == 0  # the old 催办 moment passes silently
    assert scan_at(local(2025, 11, 11, 9, 0)).total == 0  # ...and so does the old deadline
    assert scan_at(local(2025, 11, 15, 9, 0)).fired["warn"] == 1  # one working day before Nov 17
    assert Supervision.objects.get(assignment=a).due_at == eod(2025, 11, 17)


def test_an_extension_after_the_reminder_fired_rearms_it_for_the_new_deadline(dispatch: Dispatch) -> None:
    a = dispatch(local(2025, 11, 3, 9, 0))
    unit = staff("rsj")
    workflow.assignment_sign(assignment=a, actor=unit)
    assert scan_at(local(2025, 11, 8, 9, 0)).fired["warn"] == 1
    with time_machine.travel(local(2025, 11, 10, 9, 0), tick=False):
        workflow.assignment_request_extension(assignment=a, actor=unit, until=eod(2025, 11, 14), reason="等待检测报告")
        workflow.assignment_decide_extension(
            assignment=a, actor=Actor.of(User.objects.get(username="dispatcher1")), approve=True
        )
    assert fresh(a).warned_at is None
    assert scan_at(local(2025, 11, 11, 9, 0)).total == 0  # no 督办 for the old deadline
    assert scan_at(local(2025, 11, 14, 0, 1)).fired["warn"] == 1
    assert [s.due_at for s in Supervision.objects.filter(assignment=a)] == [eod(2025, 11, 10), eod(2025, 11, 14)]


def test_a_paused_clock_does_not_fire(dispatch: Dispatch) -> None:
    a = dispatch(local(2025, 11, 3, 9, 0))  # due Nov 10
    unit = staff("rsj")
    with time_machine.travel(local(2025, 11, 4, 9, 0), tick=False):
        workflow.assignment_sign(assignment=a, actor=unit)
        clock.assignment_pause_clock(assignment=a, actor=unit, reason="等待群众补充材料")
    assert scan_at(local(2025, 11, 20, 9, 0)).total == 0  # far past the original 督办
    with time_machine.travel(local(2025, 11, 20, 9, 0), tick=False):
        clock.assignment_resume_clock(assignment=a, actor=unit)
    resumed = fresh(a)
    assert resumed.reply_due_at == eod(2025, 11, 10) + (local(2025, 11, 20, 9) - local(2025, 11, 4, 9))
    assert resumed.warn_at == eod(2025, 11, 25)  # one working day before the moved deadline
    assert scan_at(resumed.warn_at - timedelta(minutes=1)).total == 0
    assert scan_at(resumed.warn_at).fired["warn"] == 1


def test_a_reminder_overtaken_by_its_deadline_gives_way_to_the_supervision(dispatch: Dispatch) -> None:
    a = dispatch(local(2025, 11, 3, 9, 0))
    workflow.assignment_sign(assignment=a, actor=staff("rsj"))
    report = scan_at(local(2025, 11, 12, 9, 0))  # the scanner was down for days
    assert report.fired["warn"] == 0 and report.skipped == 1 and report.fired["supervise"] == 1
    assert levels(a) == [SupervisionLevel.SUPERVISION]


def test_a_replied_assignment_is_left_alone(dispatch: Dispatch) -> None:
    a = dispatch(local(2025, 11, 3, 9, 0))
    unit = staff("rsj")
    workflow.assignment_sign(assignment=a, actor=unit)
    workflow.assignment_reply(assignment=a, actor=unit, text="已办结")
    assert scan_at(local(2025, 12, 1)).total == 0


def test_batches_process_every_due_row(dispatch: Dispatch) -> None:
    made = [dispatch(local(2025, 11, 3, 9, i)) for i in range(7)]
    with time_machine.travel(local(2025, 11, 4, 10, 0), tick=False):
        report = supervision_scanner.deadlines_scan(batch_size=3)
    assert report.fired["sign"] == 7 and report.batches == 3
    assert all(levels(a) == [SupervisionLevel.SIGN_REMINDER] for a in made)


def test_the_management_command_runs_one_tick(dispatch: Dispatch, capsys) -> None:
    dispatch(local(2025, 11, 3, 9, 0))
    with time_machine.travel(local(2025, 11, 4, 10, 0), tick=False):
        call_command("scan_deadlines")
    assert "sign=1" in capsys.readouterr().out


def test_the_beat_schedule_runs_the_scanner_every_minute(dispatch: Dispatch, settings) -> None:
    from hotline.embedded_scheduler import run_due

    entry = settings.CELERY_BEAT_SCHEDULE["sla-scan-deadlines"]
    assert entry["schedule"].total_seconds() == 60
    a = dispatch(local(2025, 11, 3, 9, 0))
    settings.CELERY_BEAT_SCHEDULE = {"sla-scan-deadlines": entry}
    with time_machine.travel(local(2025, 11, 4, 10, 0), tick=False):
        assert run_due({}) == ["sla-scan-deadlines"]
    assert levels(a) == [SupervisionLevel.SIGN_REMINDER]


def test_the_embedded_scheduler_takes_the_whole_schedule_and_keeps_crontab_entries_for_their_hour(
    settings,
) -> None:
    """The single-command start runs the production beat schedule in a thread: every entry, the
    wall-clock ones (nightly retraining, the 07:30 hot-spot report) at their hour, not at start."""
    from celery.schedules import crontab

    from hotline.embedded_scheduler import run_due

    nightly = {name for name, e in settings.CELERY_BEAT_SCHEDULE.items() if isinstance(e["schedule"], crontab)}
    assert {"classifier-retrain"} <= nightly
    settings.CELERY_BEAT_SCHEDULE = {
        name: entry for name, entry in settings.CELERY_BEAT_SCHEDULE.items() if name in nightly
    }
    last_run: dict = {}
    with time_machine.travel(local(2025, 11, 4, 10, 0), tick=False):
        assert run_due(last_run) == []  # started at 10:00: nothing nightly runs now
    with time_machine.travel(local(2025, 11, 5, 3, 16), tick=False):
        assert "classifier-retrain" in run_due(last_run)  # its 03:15 has passed


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.drill
def test_two_scanners_at_once_fire_once_in_total(dispatch: Dispatch) -> None:
    made = [dispatch(local(2025, 11, 3, 9, i % 60)) for i in range(40)]
    moment = local(2025, 11, 12, 9, 0)  # every sign reminder and 督办 is due; 催办s are overtaken
    start = threading.Barrier(2)
    reports: list[supervision_scanner.ScanReport] = []
    errors: list[BaseException] = []

    def scanner() -> None:
        try:
            start.wait()
            reports.append(supervision_scanner.deadlines_scan(now=moment, batch_size=7))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=scanner) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sum(r.fired["sign"] for r in reports) == 40
    assert sum(r.fired["supervise"] for r in reports) == 40
    for a in made:
        assert sorted(levels(a)) == sorted([SupervisionLevel.SIGN_REMINDER, SupervisionLevel.SUPERVISION])
    assert TicketEvent.objects.filter(action="sla.overdue").count() == 80


def test_scanner_events_wait_in_the_live_outbox_until_pushed(dispatch: Dispatch) -> None:
    from tickets.live.models import LiveOutbox

    a = dispatch(local(2025, 11, 3, 9, 0))
    pushed: list[list[int]] = []
    with time_machine.travel(local(2025, 11, 4, 10, 0), tick=False):
        supervision_scanner.deadlines_scan(fanout=lambda s, e: pushed.append(e))  # fan-out not run: Redis "down"
    event = TicketEvent.objects.get(assignment=a, action="sla.overdue")
    assert LiveOutbox.objects.filter(event=event).exists()  # outbox_flush will push it later
    assert scan_at(local(2025, 11, 4, 10, 1)).total == 0
    from channels_app.broadcast import event_announce

    event_announce(event.pk)
    assert not LiveOutbox.objects.filter(event=event).exists()
