"""Shared fixtures: the demo city's organisation (no tickets), users per role, API clients."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from channels.layers import channel_layers
from django.apps import apps
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Model
from rest_framework.test import APIClient

from tickets.accounts.token_rows import token_rows_stop
from tickets.callcentre.models import Desk
from tickets.demo import seed
from tickets.org.models import Category, Unit, User
from tickets.sla.services import policy

# Servers the tests start as subprocesses (uvicorn, Celery) read settings from the environment. The
# repository's var/models holds a model once `start.sh` or `ensure_default_model` has run on this
# checkout, and with it tickets would be dispatched by the classifier instead of waiting for a
# dispatcher, depending on what ran before: they get an empty model folder unless a test says so.
os.environ.setdefault("CLASSIFIER_MODEL_DIR", tempfile.mkdtemp(prefix="hotline-tests-no-model-"))

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files with slow tests first (after pytest-django's sort into its database groups, which stays
    the order inside each file): a parallel run (`-n 3 --dist loadfile`, scripts/test.sh) hands out
    whole files in this order, and a browser journey handed out last kept one worker busy for
    minutes after the others had finished. A flushed city comes back cheaply (`_city_restore`)."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)


@pytest.fixture(autouse=True)
def _test_settings(settings: object) -> None:
    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]  # type: ignore[attr-defined]
    # The production hasher's 1M PBKDF2 rounds per demo user would dominate the suite.
    settings.PASSWORD_HASHERS = FAST_HASHERS  # type: ignore[attr-defined]
    # Rate limits would trip across a suite that files hundreds of tickets from 127.0.0.1 within a
    # minute (the counters live in the shared cache); tests/security sets them low on purpose.
    rest = dict(settings.REST_FRAMEWORK)  # type: ignore[attr-defined]
    rest["DEFAULT_THROTTLE_RATES"] = {scope: "1000000/min" for scope in rest["DEFAULT_THROTTLE_RATES"]}
    settings.REST_FRAMEWORK = rest  # type: ignore[attr-defined]
    # Tests with REDIS_URL (PostgreSQL runs) have no routing worker: the router runs in-process right
    # after the intake, as in the embedded default. Tests of the worker path turn it off.
    settings.ROUTING_INLINE = True  # type: ignore[attr-defined]
    # WhiteNoise reads every static file's metadata when its middleware is made, and the test client
    # makes the middleware again for each Client(): a fifth of a request-heavy test file's time.
    # Autorefresh (what DEBUG uses) looks a file up when it is asked for; what is served is the same.
    settings.WHITENOISE_AUTOREFRESH = True  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _own_channel_layers() -> Iterator[None]:
    """Each test gets its own channel-layer instances. A layer holds asyncio locks (channels-redis's
    per-channel receive locks) that bind to the event loop that waits on them: a live hub's receiver
    still inside `receive()` when its test's event loop closed kept one locked, and a later test's
    hub, in its own loop, failed with "bound to a different event loop" (once in a full run)."""
    yield
    channel_layers.backends = {}


@pytest.fixture(autouse=True)
def _no_model_by_default(settings: object, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests see no classifier model unless they ask for `demo_model`: routing stays predictable."""
    settings.CLASSIFIER_MODEL_DIR = tmp_path_factory.mktemp("no-model")  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def _demo_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from classifier.default_model import ensure_default_model

    folder = tmp_path_factory.mktemp("demo-model")
    ensure_default_model(folder)
    return folder


@pytest.fixture
def demo_model(settings: object, _demo_model_dir: Path) -> Path:
    """The shipped default model (trained from classifier/data/demo_train.csv) is active."""
    settings.CLASSIFIER_MODEL_DIR = _demo_model_dir  # type: ignore[attr-defined]
    return _demo_model_dir


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: object) -> Iterator[None]:
    """Seed the working-day calendar once per session; test transactions roll back on top of it.
    At the end, no other session may hold the test database, or pytest-django cannot drop it."""
    from django.test import override_settings

    from tickets.sla.services.calendar import calendar_seed_from_package

    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):  # type: ignore[attr-defined]
        calendar_seed_from_package()
        models = list(apps.get_app_config("tickets").get_models(include_auto_created=True))
        before = {model: model.objects.count() for model in models}
        _seed_city()
        _CITY_ROWS[:] = [(m, list(m.objects.all())) for m in models if m.objects.count() != before[m]]
    yield
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        _test_database_released()


def _test_database_released() -> None:
    """Ends every other session on the test database and closes the connection pool. Two CI runs
    left a worker's test database behind ("is being accessed by other users": a connection still
    held after the last test, by another thread of this process or a server a test started)."""
    if connection.vendor != "postgresql":
        return
    token_rows_stop()  # its listener's session first, or it would connect again
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    connection.close_pool()  # type: ignore[attr-defined]


# The rows seeding the city wrote, kept by django_db_setup: a transactional test's flush empties the
# database, and the next test asking for the city gets these rows back in one statement per table
# (seeding again took ~1,600 statements, over a second, once per transactional test).
_CITY_ROWS: list[tuple[type[Model], list[Model]]] = []


def _city_restore() -> None:
    with transaction.atomic():
        for model, rows in _CITY_ROWS:
            model.objects.bulk_create(rows, ignore_conflicts=True)
        with connection.cursor() as cursor:  # the next ids after the restored ones
            for sql in connection.ops.sequence_reset_sql(no_style(), [m for m, _rows in _CITY_ROWS]):
                cursor.execute(sql)


def _seed_city() -> None:
    policy.profile_ensure_default()
    units = seed.seed_units()
    cats = seed.seed_categories()
    seed.seed_routing(units, cats)
    seed.seed_users(units)


@pytest.fixture
def city(db: None) -> dict[str, dict[str, object]]:
    """Units, categories, routing rules, SLA profile and users of the demo city.

    Seeded once per session (test transactions roll back on top of it); a transactional test
    flushes the database, so the next one that asks for the city gets the seeded rows back.
    """
    if not Unit.objects.filter(code="centre").exists():
        _city_restore() if _CITY_ROWS else _seed_city()
    # the general desk comes with a data migration, which a transactional test's flush removes
    Desk.objects.get_or_create(code="general", defaults={"name": "普通话综合", "is_default": True})
    return {
        "units": {u.code: u for u in Unit.objects.select_related("parent")},
        "cats": {c.code: c for c in Category.objects.select_related("parent")},
    }  # type: ignore[dict-item]


@pytest.fixture
def units(city: dict[str, dict[str, Unit]]) -> dict[str, Unit]:
    return city["units"]


@pytest.fixture
def cats(city: dict[str, dict[str, Category]]) -> dict[str, Category]:
    return city["cats"]


@pytest.fixture
def user(city: object) -> Callable[[str], User]:
    def get(username: str) -> User:
        return User.objects.get(username=username)

    return get


@pytest.fixture
def api(city: object) -> Callable[[str | User | None], APIClient]:
    """api("operator1") → an APIClient signed in as that demo user; api(None) → anonymous."""

    def make(who: str | User | None) -> APIClient:
        client = APIClient()
        if who is not None:
            client.force_authenticate(who if isinstance(who, User) else User.objects.get(username=who))
        return client

    return make


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Run Celery tasks inline, as the embedded set-up does (no worker process in the test run)."""
    from hotline.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before
