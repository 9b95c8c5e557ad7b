"""Issue 14, finding 4 (REST side): a staff API token lives one shift, each login gets its own key,
logout revokes it, and a password change or deactivation — by any path — revokes every token and
page session of that user. The live socket's side is tests/live/test_socket_revocation.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from tickets.accounts.models import ApiToken, StaffSession
from tickets.accounts.selectors import api_token_for_key
from tickets.org.models import User

PASSWORD = "demo-12345"


def _login(username: str = "operator1", password: str = PASSWORD) -> str:
    answer = APIClient().post("/api/auth/token/", {"username": username, "password": password}, format="json")
    assert answer.status_code == 200, answer.content
    return str(answer.json()["token"])


def _me(key: str) -> int:
    return int(APIClient(HTTP_AUTHORIZATION=f"Token {key}").get("/api/me/").status_code)


def _page_session(username: str = "operator1") -> Client:
    """A browser signed in through the login form (a real session row)."""
    browser = Client()
    answer = browser.post("/login/", {"username": username, "password": PASSWORD})
    assert answer.status_code == 302, answer.content
    assert _signed_in(browser)
    return browser


def _signed_in(browser: Client) -> bool:
    return bool(browser.get("/api/me/").status_code == 200)


def test_a_token_stops_working_on_rest_after_its_lifetime(city: Any, settings: Any) -> None:
    settings.API_TOKEN_TTL = timedelta(hours=12)
    answer = APIClient().post("/api/auth/token/", {"username": "operator1", "password": PASSWORD}, format="json")
    logged_in_at = timezone.now()  # just after the token was made
    key = answer.json()["token"]
    assert _me(key) == 200
    with time_machine.travel(logged_in_at + timedelta(hours=11, minutes=59)):
        assert _me(key) == 200
    with time_machine.travel(logged_in_at + timedelta(hours=12, seconds=1)):
        refused = APIClient(HTTP_AUTHORIZATION=f"Token {key}").get("/api/me/")
        assert refused.status_code == 401
        assert "过期" in refused.json()["detail"]
    # the client is told when to log in again
    expires = timezone.datetime.fromisoformat(answer.json()["expires_at"])
    assert timedelta(hours=11, minutes=59) < expires - logged_in_at <= timedelta(hours=12)


def test_each_key_finds_its_own_user_and_unit_in_one_statement(city: Any) -> None:
    """The lookup is compiled once per process; every call must still read its own key's rows."""
    clerk, operator = _login("donghu_xinhua_staff"), _login("operator1")
    for key, username, unit in [(clerk, "donghu_xinhua_staff", "donghu-xinhua"), (operator, "operator1", None)] * 2:
        with CaptureQueriesContext(connection) as queries:
            token = api_token_for_key(key=key)
            assert token is not None
            assert (token.user.username, token.user.unit.code if token.user.unit else None) == (username, unit)
            assert token.user.unit is None or token.user.unit.parent_id is not None  # a whole unit row
        assert len(queries) == 1
    assert api_token_for_key(key=clerk[:-1]) is None
    assert api_token_for_key(key="") is None
    User.objects.filter(username="donghu_xinhua_staff").update(unit=User.objects.get(username="donghu_staff").unit)
    assert api_token_for_key(key=clerk).user.unit.code == "donghu"  # type: ignore[union-attr]  # read now, not kept


def test_each_login_gets_a_new_key_and_earlier_logins_keep_theirs(city: Any) -> None:
    desk, phone = _login(), _login()
    assert desk != phone
    assert _me(desk) == 200 and _me(phone) == 200
    # only a digest is stored: the table cannot be used to sign in
    assert not ApiToken.objects.filter(digest__in=[desk, phone]).exists()


def test_logout_revokes_the_presented_token_and_no_other(city: Any) -> None:
    desk, phone = _login(), _login()
    out = APIClient(HTTP_AUTHORIZATION=f"Token {desk}").post("/api/auth/logout/")
    assert out.status_code == 204
    assert _me(desk) == 401
    assert _me(phone) == 200
    assert APIClient(HTTP_AUTHORIZATION=f"Token {desk}").post("/api/auth/logout/").status_code == 401


def test_logout_through_the_api_ends_a_page_session(city: Any) -> None:
    browser = _page_session()
    assert browser.post("/api/auth/logout/").status_code == 204
    assert not _signed_in(browser)


def test_the_pages_logout_ends_the_session(city: Any) -> None:
    browser = _page_session()
    assert browser.post("/logout/").status_code == 302
    assert not _signed_in(browser)


def test_a_password_change_revokes_every_token_and_session_of_that_user(city: Any) -> None:
    keys, browser = [_login(), _login()], _page_session()
    other_key, other_browser = _login("operator2"), _page_session("operator2")
    user = User.objects.get(username="operator1")
    user.set_password("another-secret-1")
    user.save()
    assert [_me(k) for k in keys] == [401, 401]
    assert not _signed_in(browser)
    assert not ApiToken.objects.filter(user=user).exists()
    assert not StaffSession.objects.filter(user_id=user.pk).exists()
    # nobody else is affected, and the new password signs in
    assert _me(other_key) == 200 and _signed_in(other_browser)
    assert _me(_login(password="another-secret-1")) == 200


def test_a_password_changed_behind_the_models_back_still_voids_tokens(city: Any) -> None:
    """A raw UPDATE fires no signal: the token carries the password it was issued under."""
    key = _login()
    User.objects.filter(username="operator1").update(password=make_password("another-secret-1"))
    assert _me(key) == 401


def test_deactivation_revokes_every_token_and_session_and_reactivation_revives_none(city: Any) -> None:
    key, browser = _login("rsj_staff"), _page_session("rsj_staff")
    user = User.objects.get(username="rsj_staff")
    user.is_active = False
    user.save()
    assert _me(key) == 401 and not _signed_in(browser)
    user.is_active = True
    user.save()
    assert _me(key) == 401 and not _signed_in(browser)
    assert _me(_login("rsj_staff")) == 200


def test_the_admin_deactivating_a_user_revokes_their_token(city: Any) -> None:
    key = _login("rsj_staff")
    admin = Client()
    admin.force_login(User.objects.get(username="admin"))
    target = User.objects.get(username="rsj_staff")
    page = admin.get(f"/admin/tickets/user/{target.pk}/change/")
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update({"is_active": "", "unit": target.unit_id, "groups": [], "user_permissions": []})
    data.update({"last_login_0": "", "last_login_1": "", "date_joined_0": "2026-01-01", "date_joined_1": "08:00:00"})
    changed = admin.post(f"/admin/tickets/user/{target.pk}/change/", data)
    assert changed.status_code == 302, changed.content.decode()[:2000]
    assert _me(key) == 401


def test_a_deleted_users_sessions_are_deleted(city: Any) -> None:
    _page_session("operator2")
    user = User.objects.get(username="operator2")
    assert StaffSession.objects.filter(user_id=user.pk).exists()
    user.delete()
    assert not StaffSession.objects.filter(user_id=user.pk).exists()


@pytest.mark.parametrize("body", [{"username": "operator1"}, {"username": "operator1", "password": 5}, []])
def test_a_malformed_login_is_a_400_naming_the_field(city: Any, body: Any) -> None:
    answer = APIClient().post("/api/auth/token/", body, format="json")
    assert answer.status_code == 400
    assert answer.json()["rule"] == "invalid_input"


def test_a_wrong_password_is_a_400_in_chinese(city: Any) -> None:
    answer = APIClient().post("/api/auth/token/", {"username": "operator1", "password": "nope"}, format="json")
    assert answer.status_code == 400
    assert answer.json()["rule"] == "bad_credentials" and "密码" in answer.json()["detail"]
