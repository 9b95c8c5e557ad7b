"""Database errors: an outage is 503 (retry later), a schema or programming error is 500 and logged."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.db.backends.postgresql.base import DatabaseWrapper as PostgresWrapper
from rest_framework.test import APIClient

from tests.drills.conftest import free_port
from tickets.db_errors import database_unavailable
from tickets.org.models import User

pytestmark = pytest.mark.drill


def _drop_ticket_table() -> None:
    """A stale schema: the code expects a table the database does not have (rolled back after the test)."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE tickets_ticket RENAME TO tickets_ticket_gone")


def test_a_missing_table_is_a_500_logged_as_an_error_not_a_503(city: Any, caplog: Any) -> None:
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(User.objects.get(username="operator1"))
    _drop_ticket_table()
    with caplog.at_level(logging.ERROR, logger="django.request"):
        answer = client.get("/api/tickets/")
    assert answer.status_code == 500
    assert answer.json()["rule"] == "server_error" and "服务器内部错误" in answer.json()["detail"]
    assert "Retry-After" not in answer
    assert any(r.levelno == logging.ERROR and r.status_code == 500 for r in caplog.records)  # type: ignore[attr-defined]


def test_a_page_with_a_missing_table_shows_a_chinese_500_page(city: Any, client: Any) -> None:
    client.raise_request_exception = False
    client.force_login(User.objects.get(username="supervisor1"))
    _drop_ticket_table()
    answer = client.get("/board/")
    assert answer.status_code == 500
    assert "服务器内部错误" in answer.content.decode() and answer["Content-Type"].startswith("text/html")


def test_a_refused_connection_counts_as_the_database_being_unavailable(django_db_blocker: Any) -> None:
    port = free_port()  # nothing listens there
    wrapper = PostgresWrapper(
        {**connection.settings_dict, "ENGINE": "django.db.backends.postgresql", "HOST": "127.0.0.1",
         "PORT": port, "NAME": "hotline", "USER": "postgres", "PASSWORD": "", "OPTIONS": {}, "CONN_MAX_AGE": 0,
         "CONN_HEALTH_CHECKS": False, "AUTOCOMMIT": True, "TIME_ZONE": None},
        alias="unreachable",
    )  # fmt: skip
    with django_db_blocker.unblock(), pytest.raises(OperationalError) as caught:
        wrapper.ensure_connection()
    assert database_unavailable(caught.value)


@pytest.mark.django_db
def test_bad_sql_is_not_an_outage() -> None:
    with pytest.raises(Exception) as caught, connection.cursor() as cursor:
        cursor.execute("SELECT no_such_column FROM tickets_unit")
    assert not database_unavailable(caught.value)
