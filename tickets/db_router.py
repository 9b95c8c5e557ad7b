"""Read replica for metrics: scorecards, rankings and exports may read from `replica`.

DATABASE_REPLICA_URL adds the `replica` alias (a streaming-replication standby). Reads go there
only inside `replica_reads()` (the metrics selectors) or through `read_alias()` (exports, whose
rows are streamed after the view returned); everything else, and every write, stays on
`default`. A replica lags its primary by the replication delay, so what is read there may be a
few seconds old: fine for scorecards and exports, never for a page that just wrote (see
docs/operations.md). Without the alias every read stays on `default`.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from django.db import connections

REPLICA = "replica"
_on_replica: contextvars.ContextVar[bool] = contextvars.ContextVar("reads_on_replica", default=False)

P = ParamSpec("P")
R = TypeVar("R")


def read_alias() -> str:
    """The alias metrics reads use: the replica when one is configured."""
    return REPLICA if REPLICA in connections.settings else "default"


@contextmanager
def replica_reads() -> Iterator[None]:
    """Inside this block, model reads go to the replica (when configured)."""
    token = _on_replica.set(True)
    try:
        yield
    finally:
        _on_replica.reset(token)


def on_replica(func: Callable[P, R]) -> Callable[P, R]:
    """Decorator for read-only selectors whose answers may be a few seconds old."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with replica_reads():
            return func(*args, **kwargs)

    return wrapper


class ReplicaRouter:
    def db_for_read(self, model: type, **hints: Any) -> str | None:
        if _on_replica.get() and REPLICA in connections.settings:
            return REPLICA
        return None

    def db_for_write(self, model: type, **hints: Any) -> str:
        return "default"  # never the replica, whatever the caller's context

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the replica holds the same rows as default

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        return db != REPLICA  # the replica gets its schema by replication
