"""seed_demo on a production server (issue 14, finding 11): it created admin/admin-12345 (the
password printed in the README) under production settings. It refuses there; with the explicit
--allow-production-demo flag (a demo server) every demo account gets a random password."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tests.security.test_deploy_check import ROOT, production_env
from tickets.core.models import Ticket
from tickets.demo import city as demo_city
from tickets.org.models import User


def test_production_settings_raise_the_production_flag_and_seed_demo_refuses_there(tmp_path: Path) -> None:
    """The real production settings module: seed_demo stops before it touches the database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "HOTLINE_", "DATABASE_"))}
    env.update(production_env(), DJANGO_SETTINGS_MODULE="hotline.settings_production", HOTLINE_VAR_DIR=str(tmp_path))
    result = subprocess.run([sys.executable, "manage.py", "seed_demo"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)  # fmt: skip
    assert result.returncode != 0
    assert "seed_demo 会写入演示账号和虚构工单，生产环境（HOTLINE_PRODUCTION）拒绝运行" in result.stderr, result.stderr
    assert "--allow-production-demo" in result.stderr
    assert "admin-12345" not in result.stdout + result.stderr


def test_seed_demo_refuses_under_the_production_flag_and_changes_nothing(city: Any, settings: Any) -> None:
    settings.HOTLINE_PRODUCTION = True
    tickets, users = Ticket.objects.count(), User.objects.count()
    with pytest.raises(CommandError, match="生产环境"):
        call_command("seed_demo", stdout=io.StringIO())
    with pytest.raises(CommandError, match="生产环境"):
        call_command("seed_bulk", tickets=10, stdout=io.StringIO())
    assert (Ticket.objects.count(), User.objects.count()) == (tickets, users)


def test_a_demo_server_in_production_gets_random_passwords_printed_once(city: Any, settings: Any) -> None:
    """The accounts already exist with the published passwords (as after an earlier seed_demo):
    with the flag they are changed too, so no demo account opens with a password from the README."""
    settings.HOTLINE_PRODUCTION = True
    out = io.StringIO()
    call_command("seed_demo", "--allow-production-demo", stdout=out)

    printed = dict(
        line.split()[::2] for line in out.getvalue().splitlines() if line.startswith("  ") and len(line.split()) == 3
    )
    assert "随机密码只显示这一次" in out.getvalue()
    assert set(printed) == set(User.objects.filter(username__in=printed).values_list("username", flat=True))
    assert {"admin", "operator1", "supervisor1"} <= set(printed)
    assert len(set(printed.values())) == len(printed)  # one password per account
    for username, password in printed.items():
        assert len(password) >= 16
        assert User.objects.get(username=username).check_password(password), username
        for known in (demo_city.ADMIN_PASSWORD, demo_city.PASSWORD):
            assert not User.objects.get(username=username).check_password(known), username
    assert "admin-12345" not in out.getvalue() and "demo-12345" not in out.getvalue()


def test_outside_production_seed_demo_keeps_the_documented_demo_passwords(city: Any) -> None:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert User.objects.get(username="admin").check_password(demo_city.ADMIN_PASSWORD)
    assert "admin-12345" in out.getvalue()


def test_the_demos_late_tickets_were_received_before_their_deadlines(city: Any) -> None:
    """The board's late demo tickets once showed a deadline (05:21) before their receipt (11:21)."""
    from django.utils import timezone

    from tickets.core.models import Ticket
    from tickets.demo import seed

    seed.seed_tickets(city["units"], city["cats"])  # type: ignore[arg-type]
    now = timezone.now()
    late = list(Ticket.objects.filter(external_ref__in=["demo-001", "demo-003", "demo-015"], due_at__lt=now))
    assert len(late) >= 2
    for ticket in late:
        assert ticket.created_at < ticket.due_at < now
        moments = list(ticket.events.order_by("id").values_list("created_at", flat=True))
        assert moments == sorted(moments) and abs((moments[0] - ticket.created_at).total_seconds()) < 1
        for assignment in ticket.assignments.all():
            assert ticket.created_at <= assignment.dispatched_at < assignment.reply_due_at  # type: ignore[operator]


def test_the_demo_has_a_flagged_late_ticket_for_the_supervisor(city: Any) -> None:
    """工单查询's 只看挂牌督办 and the board's 挂牌 badge show a case on a fresh demo."""
    from tickets.core.models import Ticket
    from tickets.demo import seed

    seed.seed_tickets(city["units"], city["cats"])  # type: ignore[arg-type]
    flagged = Ticket.objects.get(is_flagged=True)
    assert flagged.external_ref == "demo-001" and flagged.closed_at is None
    assert flagged.events.filter(action="supervision.issued", data__level="flagged").exists()
