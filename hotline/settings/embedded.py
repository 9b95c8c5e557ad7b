"""Embedded backends (no DATABASE_URL / REDIS_URL): a new user's first command needs no service.

SQLite file in var/, the in-memory channel layer, the process-memory cache; Celery runs tasks
in-process (CELERY_TASK_ALWAYS_EAGER, set in __init__) and hotline.embedded_scheduler plays beat.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def databases(var_dir: Path) -> dict[str, Any]:
    return {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(var_dir / "hotline.sqlite3"),
            "OPTIONS": {
                # IMMEDIATE makes a writer take the lock at BEGIN, so concurrent writers queue
                # instead of failing with "database is locked" half-way through a transaction.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }


CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "hotline"}}
