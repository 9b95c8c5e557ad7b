"""The real services' backends: PostgreSQL from DATABASE_URL, Redis from REDIS_URL (chosen by
hotline/settings/__init__.py whenever those are set, in tests and CI as on a server).

The strict production profile (secrets, DEBUG, hosts, TLS refused when unsafe) is
hotline/settings_production.py, which imports hotline.settings.
"""

from __future__ import annotations

import os
from typing import Any

import dj_database_url


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def databases(database_url: str, replica_url: str = "") -> dict[str, Any]:
    dbs: dict[str, Any] = {"default": dj_database_url.parse(database_url, conn_max_age=0, conn_health_checks=True)}
    if dbs["default"]["ENGINE"] == "django.db.backends.postgresql" and _env_bool("HOTLINE_DB_POOL", True):
        # A psycopg pool per process (Django 5.1+): a request borrows an open connection instead
        # of opening one (a PostgreSQL backend start per request cost more than the intake's SQL).
        # Under ASGI persistent connections (CONN_MAX_AGE) are not safe; the pool is.
        # Health checks on: the pool tests a connection as it is lent (a round trip only when the server
        # has said something: hotline/postgresql/base.py, connection_check), so after a
        # PostgreSQL restart the dead ones are dropped instead of failing requests until the pool's
        # timeout (tests/drills/test_postgres_restart.py).
        # The backend is Django's, giving up fast while the database is down (hotline/postgresql).
        dbs["default"]["ENGINE"] = "hotline.postgresql"
        dbs["default"]["CONN_HEALTH_CHECKS"] = True
        dbs["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": int(os.environ.get("HOTLINE_DB_POOL_MIN", "1")),
            "max_size": int(os.environ.get("HOTLINE_DB_POOL_MAX", "8")),
            "timeout": float(os.environ.get("HOTLINE_DB_POOL_TIMEOUT", "5")),
        }
    if replica_url:
        # Read replica: metrics/scorecard reads and exports go to it (tickets/db_router.py); writes never.
        dbs["replica"] = dj_database_url.parse(replica_url, conn_max_age=0, conn_health_checks=True)
    return dbs


def channel_layers(redis_url: str) -> dict[str, Any]:
    # Redis layer timeouts:
    # - connect 2 s: when Redis is down a write must not hang in its on_commit push; the event
    #   stays in the live outbox and the flush task sends it later;
    # - read 15 s: redis-py 8 defaults socket_timeout to 5 s, the same as channels-redis's
    #   blocking BZPOPMIN, so every idle socket was torn down every ~5 s (channels_redis#422).
    #   It must stay above that 5 s, and finite so a half-dead Redis is still noticed.
    return {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [{"address": redis_url, "socket_connect_timeout": 2, "socket_timeout": 15}],
                "capacity": int(os.environ.get("LIVE_CHANNEL_CAPACITY", "200")),
                "expiry": 30,
            },
        }
    }


def caches(redis_url: str) -> dict[str, Any]:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            # the rate-limit counters: a dead Redis must not hold a citizen's request up
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
