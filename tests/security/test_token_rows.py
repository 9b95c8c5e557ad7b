"""API tokens kept per web process (tickets/accounts/token_rows.py): read once, then kept while the
process hears PostgreSQL's notifications, and dropped the moment a token, a user or a unit changes
by any path — here changed through a connection of its own, as another web process, the admin or
a raw UPDATE would. A kept token must never outlive a sign-out, a password change or a
deactivation; while the listener is away nothing is kept and every request reads again."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.readiness import wait_until
from tickets.accounts import token_rows as rows_module
from tickets.accounts.services import api_token_issue
from tickets.accounts.token_rows import TokenRows, token_rows
from tickets.org.models import User

ON_POSTGRES = connection.vendor == "postgresql"


def on_postgres(test: Any) -> Any:
    """A test of the notifications: PostgreSQL, and committed transactions (rows are kept outside one only)."""
    test = pytest.mark.django_db(transaction=True)(test)
    test = pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL's notifications")(test)
    return pytest.mark.postgres(test)


@pytest.fixture
def listening(city: Any) -> Iterator[TokenRows]:
    """This process's rows with the listener connected (a readiness wait, never a sleep)."""
    rows = wait_until(lambda: token_rows("default"), timeout=15, what="the token listener")
    yield rows
    rows.drop_all()


def _signed_in(username: str = "operator1") -> tuple[APIClient, str]:
    key, _token = api_token_issue(user=User.objects.get(username=username))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client, key


def _me(client: APIClient) -> tuple[int, Any, int]:
    """GET /api/me/: its status, its body and how many statements read a token."""
    with CaptureQueriesContext(connection) as queries:
        answer = client.get("/api/me/")
    reads = sum("tickets_apitoken" in q["sql"] for q in queries.captured_queries)
    return answer.status_code, answer.json(), reads


def _elsewhere(sql: str, *params: Any) -> None:
    """A change committed by another session (another web process, the admin, a raw UPDATE)."""
    with psycopg.connect(**rows_module.connect_params(), autocommit=True) as other:
        other.execute(sql, params)


def _dropped(rows: TokenRows, before: int) -> None:
    wait_until(lambda: rows.generation > before, timeout=15, what="the credentials notification")


@on_postgres
def test_a_token_is_read_once_then_kept(listening: TokenRows) -> None:
    client, _key = _signed_in()
    assert _me(client)[::2] == (200, 1)
    status, body, reads = _me(client)
    assert (status, reads) == (200, 0) and body["username"] == "operator1"


@on_postgres
@pytest.mark.parametrize(
    "change",
    [
        ("DELETE FROM tickets_apitoken WHERE user_id = %s", "signed out elsewhere"),
        ("UPDATE tickets_user SET password = 'pbkdf2_sha256$1$x$y' WHERE id = %s", "password changed by raw SQL"),
        ("UPDATE tickets_user SET is_active = false WHERE id = %s", "deactivated by raw SQL"),
    ],
    ids=["signed-out", "password", "deactivated"],
)
def test_a_kept_token_ends_with_a_change_made_elsewhere(listening: TokenRows, change: tuple[str, str]) -> None:
    client, _key = _signed_in()
    _me(client)
    assert _me(client)[::2] == (200, 0)  # kept
    before = listening.generation
    _elsewhere(change[0], User.objects.get(username="operator1").pk)
    _dropped(listening, before)
    status, body, reads = _me(client)
    assert (status, reads) == (401, 1), change[1]
    assert body["detail"] == "令牌无效、已过期或已注销，请重新登录"


@on_postgres
def test_a_role_or_unit_changed_elsewhere_is_seen_at_the_next_request(listening: TokenRows) -> None:
    client, _key = _signed_in("rsj_staff")
    assert _me(client)[1]["role"] == "unit_staff"
    assert _me(client)[::2] == (200, 0)
    staff = User.objects.get(username="rsj_staff")
    before = listening.generation
    _elsewhere("UPDATE tickets_unit SET name = '市人力资源和社会保障局' WHERE id = %s", staff.unit_id)
    _dropped(listening, before)
    status, body, reads = _me(client)
    assert (status, reads) == (200, 1) and body["unit"]["name"] == "市人力资源和社会保障局"


@on_postgres
def test_a_sign_out_in_this_process_ends_the_token_at_once(listening: TokenRows) -> None:
    """The sign-out's own process drops its rows itself, before the notification comes back."""
    client, _key = _signed_in()
    _me(client)
    assert client.post("/api/auth/logout/").status_code in (200, 204)
    assert _me(client)[0] == 401


@on_postgres
def test_without_the_listener_every_request_reads_until_it_listens_again(listening: TokenRows) -> None:
    client, _key = _signed_in()
    _me(client)
    assert _me(client)[2] == 0
    _elsewhere(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE application_name = %s AND datname = current_database()",
        rows_module.APPLICATION_NAME,
    )
    wait_until(lambda: not listening.listening, timeout=15, what="the listener to notice its lost session")
    assert token_rows("default") is None
    assert _me(client)[::2] == (200, 1)  # read, and not kept
    wait_until(lambda: token_rows("default"), timeout=15, what="the listener to listen again")
    assert _me(client)[::2] == (200, 1)  # rows from before the outage are not trusted
    assert _me(client)[::2] == (200, 0)


@on_postgres
def test_nothing_is_kept_inside_a_transaction(listening: TokenRows) -> None:
    """In a transaction the read may see its own uncommitted change, whose notification comes at
    commit or never."""
    client, _key = _signed_in()
    with transaction.atomic():
        assert token_rows("default") is None
        assert _me(client)[::2] == (200, 1)
        assert _me(client)[::2] == (200, 1)


class _NoListen:
    """A session behind a proxy that does not carry notifications (PgBouncer in transaction mode
    runs LISTEN and NOTIFY on different server sessions): here the LISTEN never reaches PostgreSQL."""

    def __init__(self) -> None:
        self.connection = psycopg.connect(**rows_module.connect_params(), autocommit=True)

    def __enter__(self) -> _NoListen:
        return self

    def __exit__(self, *exc: object) -> None:
        self.connection.close()

    def execute(self, sql: str, params: Any = None) -> Any:
        if sql.startswith("LISTEN"):
            return None
        return self.connection.execute(sql, params)

    def notifies(self, *, timeout: float) -> Any:
        return self.connection.notifies(timeout=timeout)


@on_postgres
def test_a_listener_that_does_not_hear_its_own_probe_keeps_nothing(city: Any) -> None:
    rows = TokenRows(connect=_NoListen, health=0.2)  # type: ignore[arg-type]
    rows.thread.start()
    try:
        wait_until(lambda: rows.probes_lost >= 2, timeout=15, what="two probes lost")
        assert not rows.listening
        rows.keep("digest", ("row",), rows.generation)
        assert rows.get("digest") is None
    finally:
        rows.stop()


def test_a_read_that_overlapped_a_notification_is_not_kept() -> None:
    rows = TokenRows(connect=lambda: None)  # type: ignore[arg-type,return-value]  # never started
    rows.drop_all(listening=True)
    generation = rows.generation
    rows.drop_all()  # a notification arrived while the statement ran
    rows.keep("digest", ("row",), generation)
    assert rows.get("digest") is None
    rows.keep("digest", ("row",), rows.generation)
    assert rows.get("digest") == ("row",)
    rows.drop_all(listening=False)
    rows.keep("digest", ("row",), rows.generation)  # not listening: nothing is kept
    assert rows.get("digest") is None


@pytest.mark.django_db
def test_sqlite_keeps_nothing(city: Any) -> None:
    if ON_POSTGRES:
        pytest.skip("the embedded database only")
    client, _key = _signed_in()
    assert token_rows("default") is None
    assert _me(client)[::2] == (200, 1)
    assert _me(client)[::2] == (200, 1)
