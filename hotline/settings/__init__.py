"""Settings, read from the environment. `DJANGO_SETTINGS_MODULE=hotline.settings` everywhere but on a
production server, which names `hotline.settings_production` (the same settings, refusing unsafe ones).

Two ways to run, one code path, chosen here and nowhere else:
- embedded default (no DATABASE_URL / REDIS_URL): SQLite file, in-memory channel layer,
  Celery tasks run in-process and the embedded scheduler plays beat (hotline/settings/embedded.py);
- the services: DATABASE_URL (PostgreSQL) and REDIS_URL (Celery broker, channel layer, cache)
  (hotline/settings/services.py).
Everything else is in hotline/settings/base.py. The strict production profile that refuses weak
secrets is hotline/settings_production.py (it imports this module).
"""

from __future__ import annotations

from hotline.settings import embedded, services
from hotline.settings.base import *  # noqa: F403
from hotline.settings.base import DATABASE_REPLICA_URL, DATABASE_URL, REDIS_URL, VAR_DIR, env_bool

EMBEDDED = not REDIS_URL
DATABASES = services.databases(DATABASE_URL, DATABASE_REPLICA_URL) if DATABASE_URL else embedded.databases(VAR_DIR)
CHANNEL_LAYERS = services.channel_layers(REDIS_URL) if REDIS_URL else embedded.CHANNEL_LAYERS
CACHES = services.caches(REDIS_URL) if REDIS_URL else embedded.CACHES
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = EMBEDDED
ROUTING_INLINE = env_bool("HOTLINE_ROUTING_INLINE", EMBEDDED)
