"""A deadline that reaches a year without calendar data is flagged, never guessed, and filled in
as soon as an admin imports that year."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.sla.conftest import Dispatch, fresh, local, staff, ticket_of
from tickets.core.models import TicketEvent
from tickets.core.services import workflow
from tickets.org.models import User
from tickets.sla.models import AdminAlert, CalendarDay, CalendarYear
from tickets.sla.services import policy

EXAMPLE_2027 = Path(__file__).parents[2] / "tickets/sla/data/cn-2027.example.toml"


def eod(y: int, m: int, d: int):
    return local(y, m, d, 23, 59, 59).astimezone(UTC)


def test_dispatch_into_2027_is_flagged_alerted_and_filled_in_by_the_import(dispatch: Dispatch, capsys) -> None:
    # Mon Dec 28 2026, 5 working days: Dec 29, 30, 31, then 2027, which nobody has published yet.
    a = dispatch(local(2026, 12, 28, 15, 0))
    assert a.calendar_gap_year == 2027
    assert a.reply_due_at is None and ticket_of(a).due_at is None  # not guessed
    assert a.sign_due_at == local(2026, 12, 29, 15, 0)  # the 24 h clock needs no calendar
    alert = AdminAlert.objects.get(key="calendar_gap:2027")
    assert alert.resolved_at is None and "2027" in alert.title
    assert a.pk in alert.data["assignments"]
    assert TicketEvent.objects.filter(assignment=a, action="sla.calendar_gap").exists()

    b = dispatch(local(2026, 12, 30, 9, 0))  # a second one counts on the same alert
    assert AdminAlert.objects.get(key="calendar_gap:2027").occurrences == 2

    call_command("calendar_import", str(EXAMPLE_2027))
    assert "imported 2027; deadlines filled in: 2" in capsys.readouterr().out
    a, b = fresh(a), fresh(b)
    # EXAMPLE 2027: 元旦 Jan 1-3 off, so Dec 29, 30, 31, Jan 4, Jan 5.
    assert a.reply_due_at == eod(2027, 1, 5) and a.calendar_gap_year is None
    assert a.warn_at == eod(2027, 1, 4) and a.supervise_at == local(2027, 1, 6)
    assert ticket_of(a).due_at == a.reply_due_at
    assert b.reply_due_at == eod(2027, 1, 7)
    filled = TicketEvent.objects.get(assignment=a, action="sla.deadline_filled")
    assert filled.data["reply_due_at"] == a.reply_due_at.isoformat()
    alert = AdminAlert.objects.get(key="calendar_gap:2027")
    assert alert.resolved_at is not None
    assert CalendarYear.objects.filter(year=2027).exists()


def test_deadline_known_but_supervision_day_in_the_unknown_year_is_flagged_too(dispatch: Dispatch) -> None:
    # Thu Dec 24 2026 + 5 working days = Thu Dec 31: the 督办 (next working day) lies in 2027.
    a = dispatch(local(2026, 12, 24, 10, 0))
    assert a.reply_due_at == eod(2026, 12, 31)
    assert a.supervise_at is None and a.calendar_gap_year == 2027
    call_command("calendar_import", str(EXAMPLE_2027))
    assert fresh(a).supervise_at == local(2027, 1, 4)


def test_a_reply_without_a_deadline_gets_its_verdict_once_the_year_is_imported(dispatch: Dispatch) -> None:
    a = dispatch(local(2026, 12, 28, 15, 0))
    unit = staff("rsj")
    with time_machine.travel(local(2027, 1, 6, 9, 0), tick=False):
        workflow.assignment_sign(assignment=a, actor=unit)
        workflow.assignment_reply(assignment=a, actor=unit, text="已处理")
    assert fresh(a).reply_on_time is None  # unknown, not guessed "on time"
    call_command("calendar_import", str(EXAMPLE_2027))
    assert fresh(a).reply_on_time is False  # replied Jan 6, due Jan 5


def test_an_extension_into_an_unknown_year_is_refused(dispatch: Dispatch) -> None:
    a = dispatch(local(2026, 12, 21, 10, 0))  # due Dec 28
    unit = staff("rsj")
    with time_machine.travel(local(2026, 12, 22, 10, 0), tick=False):
        workflow.assignment_sign(assignment=a, actor=unit)
        with pytest.raises(Exception, match="2027年工作日历尚未导入"):
            workflow.assignment_request_extension(
                assignment=a, actor=unit, until=eod(2027, 1, 8), reason="需协调多个部门"
            )


def test_import_through_the_admin_upload_form(dispatch: Dispatch, client) -> None:
    a = dispatch(local(2026, 12, 28, 15, 0))
    client.force_login(User.objects.get(username="admin"))
    assert "导入年度节假日安排" in client.get("/admin/tickets/calendaryear/").content.decode()
    with EXAMPLE_2027.open("rb") as fh:
        response = client.post("/admin/tickets/calendaryear/import/", {"file": fh})
    assert response.status_code == 302
    assert fresh(a).reply_due_at == eod(2027, 1, 5)


def test_a_bad_year_file_is_refused_with_every_problem(calendar: None, tmp_path: Path) -> None:
    bad = tmp_path / "cn-2027.toml"
    bad.write_text('year = 2027\n[[holidays]]\nname = "元旦"\ndates = ["2027-13-01", "2026-12-31"]\n')
    with pytest.raises(CommandError) as info:
        call_command("calendar_import", str(bad))
    assert "2027-13-01" in str(info.value) and "2026-12-31" in str(info.value)
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_calendar_seed_command_fills_missing_years(city: object, capsys) -> None:
    CalendarDay.objects.filter(date__year=2024).delete()
    CalendarYear.objects.filter(year=2024).delete()
    call_command("calendar_seed", "2024")
    assert "seeded years: 2024" in capsys.readouterr().out
    call_command("calendar_seed", "2024")
    assert "none" in capsys.readouterr().out
    policy.calendar_invalidate()
