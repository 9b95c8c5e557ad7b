"""API token rows kept per web process, dropped as soon as any credential changes anywhere.

Every API request authenticates by its token, and reading the token with its user and unit was a
statement in a transaction of its own on every request: ~0.3 ms of the web process's CPU and ~0.4 ms
of PostgreSQL's per accepted ticket, a seventh of an accept (bench/intake/README.md, session 33).
Here a process keeps the rows it read, by the token's digest, while a thread of its own holds a
PostgreSQL connection that LISTENs on `hotline_credentials`. Database triggers (migration 0023) send
that channel a notification at the commit of any change to the tokens, the users or the units, by
any path: sign-out, a password changed, a user deactivated or moved, the admin, a raw UPDATE. The
listener then drops every kept row.

What keeps this correct:
- Rows are kept only while the listener hears its own probe, a notification it sends itself
  every HEALTH_SECONDS. When its connection fails or a probe does not come back (a proxy that
  does not carry notifications), everything is dropped, and every request reads again until a
  probe is heard anew.
- A row whose read overlapped a notification is not kept (the generation read before the
  statement must be the one at keeping), so a read that raced a change cannot outlive it.
- Nothing is kept or used inside a transaction: the read could see the transaction's own
  uncommitted change, whose notification comes at its commit or never (a test's rollback).
- Only the default database: a replica could serve a row older than a notification handled.
- Each request still checks the token (user active, lifetime, password hash) on objects built
  fresh from the kept row, so a token expires on time without any notification, and no two
  requests share a model instance.
- A kept row is dropped after KEEP_SECONDS whatever happens, and all are dropped past MAX_ROWS.

SQLite (the embedded default) has no notifications: nothing is kept there, every request reads.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
from django.conf import settings
from django.db import connections, transaction

log = logging.getLogger(__name__)

CHANNEL = "hotline_credentials"
PROBE = "probe:"  # the payload prefix of a listener's own probe; the triggers send ""
KEEP_SECONDS = 60.0
MAX_ROWS = 10_000
HEALTH_SECONDS = 5.0  # how often the listener proves, by a probe it hears, that notifications reach it
RETRY_SECONDS = (0.5, 30.0)  # the listener's back-off after a failed connection: first, at most
APPLICATION_NAME = "hotline token rows"  # how the listener's session shows in pg_stat_activity


class TokenRows:
    """The rows of one process. `get`, `generation` and `keep` are called from request threads,
    everything else from the listener; the lock orders a keep against a drop."""

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]], *, health: float = HEALTH_SECONDS) -> None:
        self.connect = connect
        self.health = health
        self.rows: dict[str, tuple[float, tuple[Any, ...]]] = {}
        self.generation = 0
        self.listening = False
        self.probes_lost = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._listen, name="token-rows", daemon=True)

    def get(self, digest: str) -> tuple[Any, ...] | None:
        kept = self.rows.get(digest)
        if kept is None or time.monotonic() - kept[0] > KEEP_SECONDS:
            return None
        return kept[1]

    def keep(self, digest: str, row: tuple[Any, ...], generation: int) -> None:
        """Keep a row read after `generation` was read, unless a notification came in between."""
        with self.lock:
            if not self.listening or generation != self.generation:
                return
            if len(self.rows) >= MAX_ROWS:
                self.rows.clear()
            self.rows[digest] = (time.monotonic(), row)

    def drop_all(self, *, listening: bool | None = None) -> None:
        with self.lock:
            self.generation += 1
            self.rows.clear()
            if listening is not None:
                self.listening = listening

    def stop(self) -> None:
        """The listener ends at its next wake-up (at most HEALTH_SECONDS) and connects no more; its
        session may be ended at once (a test database about to be dropped must have none left)."""
        self.stopping.set()
        self.drop_all(listening=False)

    def _listen(self) -> None:
        """Listen; every `health` seconds notify this session a probe and hear it come back.

        The probe proves the whole path: a session that died without a word, or a proxy between
        here and PostgreSQL that does not carry notifications (PgBouncer in transaction mode runs
        the LISTEN and the NOTIFY on different server sessions), and the rows would outlive a
        change. Rows are kept only once a probe has come back, and never after one is lost."""
        pause = RETRY_SECONDS[0]
        sent = itertools.count()
        while not self.stopping.is_set():
            try:
                with self.connect() as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    while not self.stopping.is_set():
                        probe = f"{PROBE}{os.getpid()}:{next(sent)}"
                        connection.execute("SELECT pg_notify(%s, %s)", (CHANNEL, probe))
                        if not self._hear(connection, probe):
                            self.probes_lost += 1
                            raise psycopg.OperationalError("the listener's own probe did not come back")
                        pause = RETRY_SECONDS[0]
            except (psycopg.Error, OSError) as error:
                if not self.stopping.is_set():
                    log.warning("token rows: listener lost (%s); every request reads its token", error)
            finally:
                self.drop_all(listening=False)
            self.stopping.wait(pause)
            pause = min(pause * 2, RETRY_SECONDS[1])

    def _hear(self, connection: psycopg.Connection[Any], probe: str) -> bool:
        """`health` seconds of notifications: each change drops the rows (another listener's probe
        is no change); True when this listener's own probe came back."""
        heard = False
        for notification in connection.notifies(timeout=self.health):
            if notification.payload == probe:
                heard = True
                if not self.listening:
                    self.drop_all(listening=True)  # rows read while nobody listened are not trusted
            elif not notification.payload.startswith(PROBE):
                self.drop_all()
        return heard


_rows: TokenRows | None = None
_rows_pid = 0
_start = threading.Lock()


def connect_params() -> dict[str, Any]:
    """The default database's connection parameters, as psycopg takes them."""
    params = dict(connections["default"].get_connection_params())
    for name in ("cursor_factory", "context", "prepare_threshold"):  # Django's, not connection options
        params.pop(name, None)
    return params


def _connect() -> psycopg.Connection[Any]:
    return psycopg.connect(**connect_params(), autocommit=True, application_name=APPLICATION_NAME)


def token_rows(alias: str) -> TokenRows | None:
    """This process's kept rows, when a read on `alias` may use them now; else None (read).

    The listener starts with the process's first authenticated request, in the process that serves
    it: `hotline.serve` forks its workers from a parent that must hold no thread."""
    global _rows, _rows_pid
    if alias != "default" or not settings.API_TOKEN_ROWS_KEPT:
        return None
    connection = connections[alias]
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return None
    if _rows is None or _rows_pid != os.getpid():
        with _start:
            if _rows is None or _rows_pid != os.getpid():
                _rows, _rows_pid = TokenRows(_connect), os.getpid()
                _rows.thread.start()
    return _rows if _rows.listening else None


def token_rows_drop() -> None:
    """Drop this process's rows now: a credential changed here. Other processes (and this one
    again, at the commit) hear of it from the database's notification."""
    rows = _rows
    if rows is not None and _rows_pid == os.getpid():
        rows.drop_all()
        transaction.on_commit(rows.drop_all)


def token_rows_stop() -> None:
    global _rows
    rows, _rows = _rows, None
    if rows is not None and _rows_pid == os.getpid():
        rows.stop()
