"""Per-worker services for a parallel run (`pytest -n 2`, pytest-xdist).

pytest-django gives each worker a test database of its own (test_<name>_gw0, _gw1 …); this plugin
does the same for Redis: worker gwN uses the database index after REDIS_URL's own plus N, so one
worker's channel-layer flush, Celery queue or cache counters never reach the other's. It runs when
pytest starts (`-p tests.xdist_services` in pyproject.toml), before Django reads its settings, and
the servers the tests start as subprocesses inherit the same environment.
"""

from __future__ import annotations

import os
from urllib.parse import urlparse, urlunparse

REDIS_DATABASES = 16  # redis-server's default `databases`


def worker_redis_url(url: str, worker: str) -> str:
    """redis://host:port/B → redis://host:port/(B + 1 + N) for worker gwN."""
    parts = urlparse(url)
    base = int(parts.path.strip("/") or 0)
    index = base + 1 + int(worker.removeprefix("gw"))
    if index >= REDIS_DATABASES:
        raise RuntimeError(f"{worker}: Redis database {index} does not exist (redis-server has {REDIS_DATABASES})")
    return urlunparse(parts._replace(path=f"/{index}"))


_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker and os.environ.get("REDIS_URL"):
    os.environ["REDIS_URL"] = worker_redis_url(os.environ["REDIS_URL"], _worker)
