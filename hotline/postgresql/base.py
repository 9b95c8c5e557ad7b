"""Django's PostgreSQL backend, with the connection pool giving up fast while the database is down.

A request borrows its connection from the process's psycopg pool and waits up to the pool's
timeout (HOTLINE_DB_POOL_TIMEOUT, 5 s) for one. Normally it never waits: a web process lets
fewer requests in at once than the pool holds (hotline/admission.py). When PostgreSQL is down
or restarting, though, every request waited the whole timeout before its 503, holding one of
the process's few admission slots, and the requests queued behind it — a supervisor reloading
the board, an operator's save — waited several timeouts for the same 503 (the restart drill
saw a page take over ten seconds). So once a borrow has timed out, the next ones wait only
`OUTAGE_TIMEOUT`, until a borrow succeeds again (the pool reconnects by itself in the
background); then the configured timeout is back.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool, PoolTimeout

OUTAGE_TIMEOUT = 0.5  # seconds a borrow waits once the database is known to be unreachable


class DatabaseWrapper(base.DatabaseWrapper):
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
