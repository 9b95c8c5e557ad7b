"""Shared fixtures: the demo city's organisation (no tickets), users per role, API clients."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from tickets.demo import seed
from tickets.models import Category, Unit, User
from tickets.services import sla


@pytest.fixture(autouse=True)
def _test_settings(settings: object) -> None:
    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]  # type: ignore[attr-defined]
    # Forty demo users per test: the production hasher's 1M PBKDF2 rounds would dominate the suite.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: object) -> None:
    """Seed the working-day calendar once per session; test transactions roll back on top of it."""
    from tickets.services.calendar import calendar_seed_from_package

    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        calendar_seed_from_package()


@pytest.fixture
def city(db: None) -> dict[str, dict[str, object]]:
    """Units, categories, routing rules, SLA profile and users of the demo city."""
    sla.profile_ensure_default()
    units = seed.seed_units()
    cats = seed.seed_categories()
    seed.seed_routing(units, cats)
    seed.seed_users(units)
    return {"units": units, "cats": cats}  # type: ignore[dict-item]


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
