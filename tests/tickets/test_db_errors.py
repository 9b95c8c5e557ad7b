"""Database errors: an outage is 503 (retry later), a schema or programming error is 500 and logged."""

from __future__ import annotations

import logging
import select
import socket
import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.db import OperationalError, connection
from django.db.backends.postgresql.base import DatabaseWrapper as PostgresWrapper
from rest_framework.test import APIClient

from hotline.postgresql.base import OUTAGE_TIMEOUT, connection_check
from hotline.postgresql.base import DatabaseWrapper as PooledWrapper
from tests.drills.conftest import ON_POSTGRES, free_port, wait_until
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


class Forwarder:
    """A TCP port that is closed until `open()`, then forwards to the test's PostgreSQL: the
    database going away and coming back, as the pool sees it."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target, self.port = target, free_port()
        self.listener: socket.socket | None = None

    def open(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        assert self.listener is not None
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            server = socket.create_connection(self.target)
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            sink.close()

    def close(self) -> None:
        if self.listener is not None:
            self.listener.close()


@pytest.fixture
def forwarder() -> Iterator[Forwarder]:
    settings = connection.settings_dict
    proxy = Forwarder((settings["HOST"] or "127.0.0.1", int(settings["PORT"] or 5432)))
    yield proxy
    proxy.close()


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="the pool is PostgreSQL's (set DATABASE_URL)")
def test_while_the_database_is_unreachable_a_borrow_gives_up_fast_until_it_is_back(
    django_db_blocker: Any, forwarder: Forwarder
) -> None:
    wrapper: Any = PooledWrapper(  # Any: django-stubs lack Django 5.1's pool
        {**connection.settings_dict, "HOST": "127.0.0.1", "PORT": forwarder.port, "CONN_MAX_AGE": 0,
         "CONN_HEALTH_CHECKS": True, "OPTIONS": {"pool": {"min_size": 0, "max_size": 2, "timeout": 2.0}}},
        alias="outage_drill",
    )  # fmt: skip
    try:
        with django_db_blocker.unblock():
            with pytest.raises(OperationalError) as caught:
                wrapper.ensure_connection()  # waits the configured 2 s: nothing listens
            assert database_unavailable(caught.value)
            assert wrapper.pool.timeout == OUTAGE_TIMEOUT  # the requests behind it get their 503 fast

            forwarder.open()  # the database is back; the pool reconnects by itself

            def borrowed() -> bool:
                try:
                    wrapper.ensure_connection()
                except OperationalError:
                    return False
                return True

            wait_until(borrowed, timeout=30, what="a connection once the database is back")
            with wrapper.cursor() as cursor:
                cursor.execute("SELECT 1")
                assert cursor.fetchone() == (1,)
            assert wrapper.pool.timeout == 2.0  # back to the configured wait
    finally:
        wrapper.close()
        wrapper.close_pool()
        wrapper._connection_pools.pop("outage_drill", None)


def _raw_connection() -> psycopg.Connection[Any]:
    settings = connection.settings_dict
    return psycopg.connect(host=settings["HOST"] or "127.0.0.1", port=int(settings["PORT"] or 5432),
                           user=settings["USER"], dbname=settings["NAME"], autocommit=True)  # fmt: skip


def _last_statement(observer: psycopg.Connection[Any], pid: int) -> str:
    row = observer.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
    assert row is not None
    return str(row[0])


def _readable(conn: psycopg.Connection[Any], seconds: float) -> bool:
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN)
    return bool(poller.poll(seconds * 1000))


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.skipif(not ON_POSTGRES, reason="the pool is PostgreSQL's (set DATABASE_URL)")
def test_a_quiet_connection_is_lent_without_a_round_trip() -> None:
    """psycopg_pool's own check sends an empty query on every borrow; ours sends nothing while the
    server has said nothing (the backend's last statement is still the one before)."""
    with _raw_connection() as lent, _raw_connection() as observer:
        lent.execute("SELECT 'before the borrow'")
        connection_check(lent)
        assert _last_statement(observer, lent.info.backend_pid) == "SELECT 'before the borrow'"


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="the pool is PostgreSQL's (set DATABASE_URL)")
def test_a_connection_the_server_ended_is_not_lent_the_request_gets_a_new_one(django_db_blocker: Any) -> None:
    wrapper: Any = PooledWrapper(  # Any: django-stubs lack Django 5.1's pool
        {**connection.settings_dict, "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": True,
         "OPTIONS": {"pool": {"min_size": 1, "max_size": 1, "timeout": 5.0}}},
        alias="ended_drill",
    )  # fmt: skip
    try:
        with django_db_blocker.unblock(), _raw_connection() as observer:
            wrapper.ensure_connection()
            pooled = wrapper.connection
            first_pid = pooled.info.backend_pid
            wrapper.close()  # back to the pool, idle
            observer.execute("SELECT pg_terminate_backend(%s)", [first_pid])  # as a restart ends every session
            assert _readable(pooled, 10), "the server's goodbye never reached the idle connection"

            with wrapper.cursor() as cursor:  # no error: the dead connection was replaced, not lent
                cursor.execute("SELECT pg_backend_pid()")
                (pid,) = cursor.fetchone()
            assert pid != first_pid
    finally:
        wrapper.close()
        wrapper.close_pool()
        wrapper._connection_pools.pop("ended_drill", None)
