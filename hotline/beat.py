"""One beat for the whole deployment, whatever number of nodes run `celery beat`.

`LeaderScheduler` (CELERY_BEAT_SCHEDULER) is Celery's own PersistentScheduler that only sends
due tasks while its process holds a PostgreSQL session advisory lock. The lock lives on a
connection of its own: when the leader dies (or loses its network) PostgreSQL ends the session
and frees the lock, and a standby beat takes over at its next check (BEAT_STANDBY_SECONDS).
A leader that can no longer reach PostgreSQL steps down at once, so two leaders never overlap
for longer than a network timeout; the periodic tasks are idempotent anyway (guarded updates,
SKIP LOCKED claims), so such an overlap costs duplicate work, never duplicate effects.

Without PostgreSQL (the embedded default: SQLite, one process) there is nothing to elect.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from celery.beat import PersistentScheduler
from django.conf import settings
from django.db import connections

log = logging.getLogger("hotline.beat")


class LeaderLock:
    """A session advisory lock on a dedicated PostgreSQL connection."""

    def __init__(self, key: int) -> None:
        self.key = key
        self._conn: Any = None
        self.held = False

    def _connect(self) -> Any:
        params = connections["default"].get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        return psycopg.connect(**params, autocommit=True, connect_timeout=5)

    def check(self) -> bool:
        """True while this process is the leader; tries to become it otherwise."""
        try:
            if self._conn is None or self._conn.closed:
                self.held = False
                self._conn = self._connect()
            if self.held:
                self._conn.execute("SELECT 1")  # still our session: the lock is still ours
            else:
                row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", [self.key]).fetchone()
                self.held = bool(row and row[0])
        except Exception as exc:  # PostgreSQL unreachable: step down, try again next time
            if self.held:
                log.warning("beat: lost the leader lock (%s); standing by", exc)
            self.release()
        return self.held

    def release(self) -> None:
        self.held = False
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # already broken
                log.debug("beat: closing the lock connection failed", exc_info=True)
        self._conn = None


def leader_election_needed() -> bool:
    return connections["default"].vendor == "postgresql"


class LeaderScheduler(PersistentScheduler):
    """PersistentScheduler that sends tasks only while it holds the deployment's beat lock."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.lock = LeaderLock(settings.BEAT_LEADER_LOCK_KEY) if leader_election_needed() else None
        self._was_leader: bool | None = None  # unknown until the first check: log either state
        super().__init__(*args, **kwargs)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if self.lock is not None:
            leader = self.lock.check()
            if leader != self._was_leader:
                log.warning("beat: %s", "now the leader, scheduling" if leader else "standing by (another beat leads)")
                self._was_leader = leader
            if not leader:
                return float(settings.BEAT_STANDBY_SECONDS)
        return float(super().tick(*args, **kwargs))

    def close(self) -> None:
        super().close()
        if self.lock is not None:
            self.lock.release()
