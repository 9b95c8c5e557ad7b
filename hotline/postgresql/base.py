"""Django's PostgreSQL backend, with the connection pool giving up fast while the database is down
and testing a connection it lends without a round trip while the server has said nothing.

A request borrows its connection from the process's psycopg pool and waits up to the pool's
timeout (HOTLINE_DB_POOL_TIMEOUT, 5 s) for one. Normally it never waits: a web process lets
fewer requests in at once than the pool holds (hotline/admission.py). When PostgreSQL is down
or restarting, though, every request waited the whole timeout before its 503, holding one of
the process's few admission slots, and the requests queued behind it — a supervisor reloading
the board, an operator's save — waited several timeouts for the same 503 (the restart drill
saw a page take over ten seconds). So once a borrow has timed out, the next ones wait only
`OUTAGE_TIMEOUT`, until a borrow succeeds again (the pool reconnects by itself in the
background); then the configured timeout is back.

With CONN_HEALTH_CHECKS Django gives the pool psycopg_pool's own check, an empty query on every
borrow: one more round trip for every request and every routing batch (~70 µs of the client's CPU
and a wake-up of the server; bench/intake/README.md, session 15). The pool here checks with
`connection_check` instead.
"""

from __future__ import annotations

import select
from typing import Any

import psycopg
from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool, PoolTimeout

OUTAGE_TIMEOUT = 0.5  # seconds a borrow waits once the database is known to be unreachable


def connection_check(conn: psycopg.Connection[Any]) -> None:
    """Raise if a connection about to be lent is dead; a round trip only when it may be.

    An idle connection's socket has nothing to read. When the server ends a session (a restart or
    fast shutdown, pg_terminate_backend, a crashed backend) it sends its goodbye and closes the
    socket, which becomes readable. So a closed connection fails, a readable one gets psycopg_pool's
    full check (an empty query: it raises if the server is gone and just reads a notice if not),
    and a quiet one is lent as it is. A peer that vanished without closing the socket (a cable cut
    between hosts) is not seen here, nor by the empty query, which would wait for TCP's own
    timeout: the request's first statement fails instead and is answered 503 (tickets/db_errors.py).
    """
    if conn.closed:
        raise psycopg.OperationalError("the connection is closed")
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN)
    if poller.poll(0):
        ConnectionPool.check_connection(conn)


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self) -> ConnectionPool | None:
        """Django 5.2's pool property, with `connection_check` as the pool's check."""
        pool_options = self.settings_dict["OPTIONS"].get("pool")
        if self.alias == NO_DB_ALIAS or not pool_options:
            return None
        pools: dict[str, ConnectionPool] = self._connection_pools  # type: ignore[attr-defined]  # not in django-stubs
        if self.alias not in pools:
            if self.settings_dict.get("CONN_MAX_AGE", 0) != 0:
                raise ImproperlyConfigured("Pooling doesn't support persistent connections.")
            connect_kwargs = self.get_connection_params()
            connect_kwargs["autocommit"] = True  # Django sets it as it needs later on
            pool = ConnectionPool(
                kwargs=connect_kwargs,
                open=False,  # opened at the first borrow, not while the process starts
                configure=self._configure_connection,  # type: ignore[attr-defined]  # not in django-stubs
                check=connection_check if self.settings_dict["CONN_HEALTH_CHECKS"] else None,
                **({} if pool_options is True else pool_options),
            )
            pools.setdefault(self.alias, pool)  # two threads at once: the first one's is kept
        return pools[self.alias]

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        pool: ConnectionPool | None = self.pool  # type: ignore[attr-defined]  # Django 5.1's, not in django-stubs
        if pool is None:
            return super().get_new_connection(conn_params)
        try:
            connection = super().get_new_connection(conn_params)
        except PoolTimeout:
            pool.timeout = min(pool.timeout, OUTAGE_TIMEOUT)
            raise
        if pool.timeout == OUTAGE_TIMEOUT:  # the first borrow since the outage: the usual wait again
            pool.timeout = self.configured_pool_timeout()
        return connection

    def configured_pool_timeout(self) -> float:
        options = self.settings_dict["OPTIONS"].get("pool")
        timeout = options.get("timeout") if isinstance(options, dict) else None
        return float(timeout) if timeout is not None else 30.0  # psycopg_pool's own default
