"""Is a staff credential still good? Read on every API request (token), and by the live socket
when it connects and again every LIVE_AUTH_RECHECK_SECONDS (token or session)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from importlib import import_module
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from tickets.accounts.models import ApiToken


def api_token_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()


def api_token_expires_at(token: ApiToken) -> datetime:
    """Counted from the login with the lifetime configured now, so shortening it applies at once."""
    return token.created_at + settings.API_TOKEN_TTL


def api_token_is_valid(token: ApiToken) -> bool:
    """Active user, within its lifetime, issued under the user's current password."""
    user = token.user
    if not user.is_active or timezone.now() >= api_token_expires_at(token):
        return False
    # The same HMAC of the password hash that Django keeps in a session: a password changed by any
    # path (form, admin, command, raw UPDATE) no longer matches. Fallback keys keep tokens alive
    # through a SECRET_KEY rotation, as they keep sessions.
    hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    return any(constant_time_compare(token.credential_hash, h) for h in hashes)


def api_token_for_key(*, key: str) -> ApiToken | None:
    """The valid token with this key (its user and unit loaded in the same query), else None."""
    if not key:
        return None
    token = ApiToken.objects.select_related("user__unit").filter(digest=api_token_digest(key)).first()
    if token is None or not api_token_is_valid(token):
        return None
    return token


def api_token_by_id_state(*, token_id: int) -> datetime | str:
    """When a live socket's token expires; or why it no longer signs in: "expired" (its lifetime
    is over) or "revoked" (signed out, password changed, user deactivated: the row is gone or
    no longer matches)."""
    token = ApiToken.objects.select_related("user").filter(pk=token_id).first()
    if token is None:
        return "revoked"
    if not api_token_is_valid(token):
        return "expired" if timezone.now() >= api_token_expires_at(token) else "revoked"
    return api_token_expires_at(token)


def session_user_id(*, session_key: str) -> int | None:
    """The user a stored session still signs in (Django's own checks: the session exists, its
    password hash matches, the user is active), else None."""
    store: Any = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    user = get_user(SimpleNamespace(session=store))  # type: ignore[arg-type]
    return int(user.pk) if user.is_authenticated else None
