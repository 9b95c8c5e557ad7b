"""Staff credentials: API tokens issued per login and revoked on logout, and the revocation of
everything a user holds (tokens, page sessions, open live sockets) when their password changes
or their account is deactivated or deleted.

The revocation is wired to the User model itself (tickets/accounts/signals.py), so the admin, the
`changepassword` command, a shell or any future API all trigger it. Writes that skip model
signals (QuerySet.update, raw SQL) are still caught at use: a token carries the HMAC of the
password it was issued under and is checked with the user's `is_active` on every request
(tickets/accounts/selectors.py), Django does the same for sessions, and a live socket re-checks its
login every LIVE_AUTH_RECHECK_SECONDS.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate, logout
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.utils import timezone

from tickets.accounts.models import ApiToken, StaffSession
from tickets.accounts.selectors import api_token_digest
from tickets.accounts.token_rows import token_rows_drop
from tickets.errors import InvalidInput, LoginLockedOut
from tickets.org.models import User

log = logging.getLogger("tickets.auth")

KEY_BYTES = 20  # 40 hex characters, like DRF's keys (clients and proxies already accept that size)


def api_token_issue(*, user: User) -> tuple[str, ApiToken]:
    """A new token for one login; the key is returned once and only its digest is kept."""
    key = secrets.token_hex(KEY_BYTES)
    token = ApiToken.objects.create(
        user=user, digest=api_token_digest(key), prefix=key[:8], credential_hash=user.get_session_auth_hash()
    )
    return key, token


def api_token_revoke(*, token: ApiToken) -> None:
    """Logout of one API login: the key stops working and sockets opened with it are closed."""
    ApiToken.objects.filter(pk=token.pk).delete()
    token_rows_drop()  # this process at once; the others at the commit (the database's notification)
    _announce(user_id=token.user_id, tokens=[token.pk], sessions=[])


def session_revoked(*, user_id: int, session_key: str) -> None:
    """A page logout: the session is deleted, then the sockets opened with it are closed.

    Django sends user_logged_out before it flushes the session. Deleting it here first means a page
    the closed socket sends to the login page no longer finds the session valid (it would otherwise
    be sent back to the workspace, then to the login page a second time).
    """
    StaffSession.objects.filter(session_key=session_key).delete()
    _announce(user_id=user_id, tokens=[], sessions=[session_key])


def user_credentials_revoke(*, user_id: int, reason: str) -> None:
    """Every token and session of the user is deleted and every socket of theirs is closed."""
    tokens, _ = ApiToken.objects.filter(user_id=user_id).delete()
    sessions, _ = StaffSession.objects.filter(user_id=user_id).delete()
    token_rows_drop()
    if tokens or sessions:
        log.info("credentials of user %s revoked (%s): %d tokens, %d sessions", user_id, reason, tokens, sessions)
    _announce(user_id=user_id, tokens=None, sessions=None)


def staff_credentials_purge() -> int:
    """Hourly: drop tokens past their lifetime and sessions past their expiry."""
    now = timezone.now()
    tokens, _ = ApiToken.objects.filter(created_at__lt=now - settings.API_TOKEN_TTL).delete()
    sessions, _ = StaffSession.objects.filter(expire_date__lt=now).delete()
    return tokens + sessions


def _announce(*, user_id: int, tokens: list[int] | None, sessions: list[str] | None) -> None:
    """After the commit, tell the user's open sockets (None = all of them) to close."""
    from channels_app.broadcast import credentials_revoked_push  # channels_app imports tickets.models

    transaction.on_commit(
        lambda: credentials_revoked_push(user_id=user_id, tokens=tokens, sessions=sessions), robust=True
    )


def api_token_login(*, request: Any, username: str, password: str) -> tuple[str, ApiToken]:
    """POST /api/auth/token/: a new token per login. Goes through authenticate() with the request,
    so django-axes counts a wrong password here together with the pages' and the admin's."""
    user = authenticate(request, username=username, password=password)
    if getattr(request, "axes_locked_out", False):
        raise LoginLockedOut("登录失败次数过多，账号已被临时锁定")
    if not isinstance(user, User):
        raise InvalidInput("用户名或密码不正确，或账号已停用", rule="bad_credentials")
    key, token = api_token_issue(user=user)
    user_logged_in.send(sender=User, request=request, user=user)  # last_login, axes' access log
    return key, token


def staff_logout(*, request: Any) -> str:
    """POST /api/auth/logout/: revoke the token the request came with, or end its page session."""
    if isinstance(request.auth, ApiToken):
        api_token_revoke(token=request.auth)
        return "token"
    logout(getattr(request, "_request", request))  # user_logged_out → its sockets are closed
    return "session"
