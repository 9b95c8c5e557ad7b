"""Reference reads remembered: for one unit of work, and reference data for as long as it is unchanged.

One intake or routing batch reads the active city profile, the categories of the classifier's
labels, the SLA policies, the routing rules, the centre unit and the citizen's SMS opt-out more than
once. Inside `memo_scope()` (one service call, never across requests) the first read is kept and
later ones reuse it; outside a scope every call reads the database.

Reference data (`reference=True`: units, categories, routing rules, city profiles, SLA policies)
is kept longer, per process: database triggers (migration 0018) rewrite the one row of
`ReferenceStamp` whenever any of those tables changes, by any path (the admin, a service, a bulk
update, raw SQL). A scope's first reference read reads the stamp (one single-row statement) and uses
this process's reads if they were made under the same stamp, else starts them again, so an admin's
change is seen by the next intake or batch in every process, as before, and a routing batch no
longer re-reads a dozen unchanged rows. Reads are made after the stamp is read, so they are at least
as new as it; a stamp whose change was rolled back is never reused (a sequence, random on SQLite).
Without the stamp row (a database flushed by tests) reference reads are kept per scope only.

Kept objects are shared by every thread of the process: callers read them and never change them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TypeVar

from django.db import connections, router

from tickets.core.models import ReferenceStamp

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)

_TABLE = ReferenceStamp._meta.db_table
_STAMP_SQL = f"SELECT value FROM {_TABLE} WHERE id = 1"  # noqa: S608 (a constant table name)


@dataclass
class _Scope:
    reads: dict[Hashable, object] = field(default_factory=dict)
    reference: dict[Hashable, object] | None = None  # this process's reads under the stamp, once read

    def for_reference(self) -> dict[Hashable, object]:
        """The process's reads under the current stamp; the stamp is read once per scope."""
        if self.reference is None:
            self.reference = _reference_reads()
        return self.reference


@dataclass
class _Kept:
    stamp: int | None = None
    reads: dict[Hashable, object] = field(default_factory=dict)


_SCOPE: ContextVar[_Scope | None] = ContextVar("hotline_memo_scope", default=None)
_kept: dict[str, _Kept] = {}  # by database alias
_migrated: set[str] = set()  # aliases whose database has the stamp table
_lock = threading.Lock()


@contextmanager
def memo_scope() -> Iterator[None]:
    """Remember reads until the block ends (a nested scope joins the outer one)."""
    if _SCOPE.get() is not None:
        yield
        return
    token = _SCOPE.set(_Scope())
    try:
        yield
    finally:
        _SCOPE.reset(token)


def memo_active() -> bool:
    """Whether a unit of work's scope is open."""
    return _SCOPE.get() is not None


def memoised(key: Hashable, load: Callable[[], T], *, reference: bool = False) -> T:
    """`load()` once per scope for this key (for reference data, once per process and stamp);
    outside a scope, every time."""
    scope = _SCOPE.get()
    if scope is None:
        return load()
    reads = scope.for_reference() if reference else scope.reads
    if key not in reads:
        reads[key] = load()
    return reads[key]  # type: ignore[return-value]


def memoised_many(
    keys: Iterable[K], load: Callable[[list[K]], Mapping[K, T]], *, reference: bool = False
) -> dict[K, T | None]:
    """`memoised` for several keys at once: `load(missing)` reads the keys not yet kept, in one go,
    and returns what it found (a key it leaves out is kept as None, "there is none")."""
    scope = _SCOPE.get()
    wanted = list(dict.fromkeys(keys))
    if scope is None:
        found = load(wanted) if wanted else {}
        return {key: found.get(key) for key in wanted}
    reads = scope.for_reference() if reference else scope.reads
    missing = [key for key in wanted if key not in reads]
    if missing:
        found = load(missing)
        for key in missing:
            reads[key] = found.get(key)
    return {key: reads[key] for key in wanted}  # type: ignore[misc]


def _stamp(alias: str) -> int | None:
    connection = connections[alias]
    if alias not in _migrated:  # once per process: before migration 0018 there is nothing to read
        if _TABLE not in connection.introspection.table_names():
            return None
        _migrated.add(alias)
    with connection.cursor() as cursor:
        cursor.execute(_STAMP_SQL)
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def _reference_reads() -> dict[Hashable, object]:
    """This process's reference reads under the current stamp (a fresh dict when it changed).

    The stamp is read where reference reads go now (a metrics read on the replica reads the
    replica's stamp, which arrived with the rows it stamps)."""
    alias = router.db_for_read(ReferenceStamp)
    stamp = _stamp(alias)
    if stamp is None:
        return {}
    with _lock:
        kept = _kept.get(alias)
        if kept is None or kept.stamp != stamp:
            kept = _kept[alias] = _Kept(stamp)
        return kept.reads


def memo_forget() -> None:
    """Drop this process's reference reads (tests that change reference rows behind the triggers)."""
    with _lock:
        _kept.clear()
