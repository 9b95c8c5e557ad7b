"""Which database errors mean "the database is unavailable right now" (HTTP 503, retry later).

A refused or dropped connection, a server shutting down or restarting, too many connections,
a lock or statement timeout, a deadlock victim, SQLite's "database is locked": the request
may succeed if repeated, so the client is told 503 with Retry-After. Everything else — a
missing table or column (a stale schema), bad SQL, a violated constraint — is a bug or a
deployment mistake: HTTP 500, logged as an error, never disguised as a passing outage.
"""

from __future__ import annotations

from django.db import DatabaseError, InterfaceError, OperationalError

# SQLSTATE classes / codes that are transient (PostgreSQL appendix A).
_TRANSIENT_CLASSES = ("08", "53", "57")  # connection exception, insufficient resources, operator intervention
_TRANSIENT_CODES = {"40001", "40P01", "55P03", "57014"}  # serialization, deadlock, lock timeout, cancelled
_SQLITE_TRANSIENT = ("database is locked", "database table is locked", "unable to open database", "disk i/o error")


def database_unavailable(exc: BaseException) -> bool:
    """True when `exc` is a transient database outage rather than a programming or schema error."""
    if isinstance(exc, InterfaceError):  # "connection already closed"
        return True
    if not isinstance(exc, OperationalError) and type(exc) is not DatabaseError:
        return False
    cause = exc.__cause__ or exc.__context__
    if cause is not None and hasattr(cause, "sqlstate"):  # psycopg
        code = cause.sqlstate
        if code is None:  # raised by the client: connect refused, server closed the connection
            return True
        return code.startswith(_TRANSIENT_CLASSES) or code in _TRANSIENT_CODES
    message = str(exc).lower()
    if any(text in message for text in _SQLITE_TRANSIENT):
        return True
    # psycopg's own connection failures carry no SQLSTATE and are wrapped without a cause on
    # connect; their messages name the connection.
    return isinstance(exc, OperationalError) and ("connection" in message or "server closed" in message)
