"""Issue 14, finding 5: every staff login door (the pages' /login/, POST /api/auth/token/ and
/admin/login/) shares one failure count per account (django-axes); at the limit the account is
locked — the right password included — until a cool-off that doubles while the guessing goes on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from tickets.accounts.models import LoginLockout
from tickets.org.models import User

PASSWORD = "demo-12345"


@pytest.fixture
def policy(settings: Any) -> Any:
    settings.AXES_FAILURE_LIMIT = 5
    settings.LOGIN_COOLOFF = timedelta(minutes=15)
    settings.LOGIN_COOLOFF_MAX = timedelta(hours=24)
    return settings


def _page(username: str, password: str) -> Any:
    return Client().post("/login/", {"username": username, "password": password})


def _admin(username: str, password: str) -> Any:
    return Client().post("/admin/login/?next=/admin/", {"username": username, "password": password})


def _api(username: str, password: str) -> Any:
    return APIClient().post("/api/auth/token/", {"username": username, "password": password}, format="json")


def test_thirty_wrong_passwords_then_the_right_one_is_refused_on_the_admin_login(city: Any, policy: Any) -> None:
    for _ in range(30):
        assert _admin("admin", "guess-123").status_code in (200, 429)
    browser = Client()
    refused = browser.post("/admin/login/?next=/admin/", {"username": "admin", "password": "admin-12345"})
    assert refused.status_code == 429
    page = refused.content.decode()
    assert "账号已被临时锁定" in page and "分钟后再试" in page
    assert int(refused["Retry-After"]) > 15 * 60  # 30 failures: the cool-off has doubled
    assert "_auth_user_id" not in browser.session
    assert browser.get("/admin/").status_code == 302  # still the login form


def test_one_failure_count_per_account_across_pages_api_and_admin(city: Any, policy: Any) -> None:
    assert _page("operator1", "wrong-1").status_code == 200
    assert _page("operator1", "wrong-2").status_code == 200
    assert _api("operator1", "wrong-3").status_code == 400
    assert _api("operator1", "wrong-4").status_code == 400
    fifth = _admin("operator1", "wrong-5")
    assert fifth.status_code == 429 and "账号已被临时锁定" in fifth.content.decode()

    api = _api("operator1", PASSWORD)
    assert api.status_code == 429
    assert api.json()["rule"] == "locked_out" and "账号已被临时锁定" in api.json()["detail"]
    assert 1 <= int(api["Retry-After"]) <= 15 * 60
    page = _page("operator1", PASSWORD)
    assert page.status_code == 429 and "账号已被临时锁定" in page.content.decode()
    # another account from the same address is not locked
    assert _api("operator2", PASSWORD).status_code == 200


def test_the_login_works_again_after_the_cool_off_which_grows_with_more_guessing(city: Any, policy: Any) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for n in range(5):
            _api("dispatcher1", f"wrong-{n}")
        assert _api("dispatcher1", PASSWORD).status_code == 429  # counts as the 6th failure
        clock.shift(timedelta(minutes=14))
        assert _api("dispatcher1", PASSWORD).status_code == 429  # the 7th, restarting the cool-off
        clock.shift(timedelta(minutes=15, seconds=1))
        assert _api("dispatcher1", PASSWORD).status_code == 200

        # Back-off: a guesser who reaches 2 × the limit waits 30 min, 3 × the limit 1 h.
        for n in range(10):
            _api("dispatcher1", f"wrong-{n}")
        clock.shift(timedelta(minutes=16))
        assert _api("dispatcher1", PASSWORD).status_code == 429  # 11th failure: 30 min from here
        clock.shift(timedelta(minutes=29))
        assert _api("dispatcher1", PASSWORD).status_code == 429  # 12th
        clock.shift(timedelta(minutes=30, seconds=1))
        assert _api("dispatcher1", PASSWORD).status_code == 200


def test_a_successful_login_clears_earlier_mistakes(city: Any, policy: Any) -> None:
    for n in range(4):
        _page("supervisor1", f"wrong-{n}")
    assert _page("supervisor1", PASSWORD).status_code == 302
    for n in range(4):
        assert _page("supervisor1", f"again-{n}").status_code == 200
    assert _page("supervisor1", PASSWORD).status_code == 302


def test_an_admin_unlocks_an_account_in_the_admin(city: Any, policy: Any) -> None:
    for n in range(5):
        _api("rsj_staff", f"wrong-{n}")
    assert _api("rsj_staff", PASSWORD).status_code == 429
    admin = Client()
    admin.force_login(User.objects.get(username="admin"))
    listing = admin.get("/admin/tickets/loginlockout/")
    assert listing.status_code == 200 and "rsj_staff" in listing.content.decode()
    rows = list(LoginLockout.objects.filter(username="rsj_staff").values_list("pk", flat=True))
    done = admin.post(
        "/admin/tickets/loginlockout/", {"action": "unlock", "_selected_action": rows}, follow=True
    )
    assert "已解除锁定" in done.content.decode()
    assert _api("rsj_staff", PASSWORD).status_code == 200
