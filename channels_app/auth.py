"""Who opened the socket: a DRF token for API clients, the session cookie for pages.

A token may come as `?token=<key>`, as an `Authorization: Token <key>` header, or — for
browsers, which cannot set headers on a WebSocket — as a `token.<key>` entry in
`Sec-WebSocket-Protocol` (offer e.g. `["hotline.v1", "token.<key>"]`; the server selects
`hotline.v1`). A token that is presented but wrong or expired makes the socket anonymous; we
never fall back to a cookie then. Tokens follow the REST API's rules (tickets/accounts/selectors.py).
The consumer keeps what the socket signed in with (`credential_of`) and closes the socket when
that login is revoked or expires.

A session cookie is trusted only with an Origin header from an allowed host: cookies are
ambient, so without that check any web page could open a socket in the user's name
(cross-site WebSocket hijacking). Tokens are not ambient and need no Origin.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from tickets.accounts.selectors import api_token_by_id_state, api_token_for_key, session_user_id
from tickets.org.models import User

TOKEN_PROTOCOL_PREFIX = "token."  # noqa: S105  (a prefix, not a secret)
TOKEN_KEY_MAX = 64  # DRF's keys are 40 hex characters


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin1"))
    return ""


def token_from_scope(scope: dict[str, Any]) -> tuple[str | None, str | None]:
    """(token key or None, the subprotocol to accept with or None)."""
    offered: list[str] = list(scope.get("subprotocols") or [])
    chosen = next((s for s in offered if not s.startswith(TOKEN_PROTOCOL_PREFIX)), None)
    for proto in offered:
        if proto.startswith(TOKEN_PROTOCOL_PREFIX):
            return proto.removeprefix(TOKEN_PROTOCOL_PREFIX), chosen or proto
    auth = _header(scope, b"authorization")
    if auth:
        scheme, _, key = auth.partition(" ")
        if scheme.lower() in {"token", "bearer"} and key.strip():
            return key.strip(), chosen
    query = parse_qs(scope.get("query_string", b"").decode("latin1"))
    keys = query.get("token")
    if keys and keys[0]:
        return keys[0], chosen
    return None, chosen


@database_sync_to_async
def token_for_key(key: str) -> Any:
    """The valid ApiToken (same rules as the REST API: lifetime, active user, current password)."""
    if len(key) > TOKEN_KEY_MAX or "\x00" in key:
        # No token has such a key; asked anyway, PostgreSQL refuses the NUL (a traceback, not a 4401).
        return None
    return api_token_for_key(key=key)


def credential_of(scope: dict[str, Any]) -> tuple[str, Any] | None:
    """What this socket signed in with, to re-check it later: ("token", id) or ("session", key)."""
    if scope.get("auth_method") == "token" and scope.get("auth_token_id"):
        return "token", scope["auth_token_id"]
    session = scope.get("session")
    key = getattr(session, "session_key", None) if scope.get("auth_method") == "session" else None
    return ("session", key) if key else None


def credential_valid_until(credential: tuple[str, Any], user_id: int) -> datetime | bool | str:
    """Why the login is no longer good ("revoked" or "expired", the socket's close reason); else
    when it expires (a datetime) or True (a session, which Django ends by itself). The reason is
    decided here, not by which path noticed first: the revocation message and this periodic
    re-check race, and a revoked login must read "revoked" whichever wins. Sync: run it in a thread."""
    kind, value = credential
    if kind == "token":
        return api_token_by_id_state(token_id=value)
    return True if session_user_id(session_key=value) == user_id else "revoked"


def _allowed_origins() -> Iterable[str]:
    return [*settings.ALLOWED_HOSTS, *(urlparse(o).netloc or o for o in settings.CSRF_TRUSTED_ORIGINS)]


def origin_allowed(scope: dict[str, Any]) -> bool:
    raw = _header(scope, b"origin")
    if not raw:
        return False
    validator = OriginValidator(None, list(_allowed_origins()))
    return bool(validator.valid_origin(urlparse(raw)))


class LiveAuthMiddleware:
    """Runs inside channels' AuthMiddlewareStack, which has resolved the session user."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        scope = dict(scope)
        key, subprotocol = token_from_scope(scope)
        scope["live_subprotocol"] = subprotocol
        if key is not None:
            token = await token_for_key(key)
            scope["user"] = token.user if token is not None else AnonymousUser()
            scope["auth_method"] = "token"
            scope["auth_token_id"] = token.pk if token is not None else None
        else:
            user = scope.get("user")
            if user is not None and user.is_authenticated and origin_allowed(scope):
                scope["auth_method"] = "session"
                scope["user"] = await _unit_loaded(user)
            else:
                scope["user"] = AnonymousUser()
                scope["auth_method"] = None
        return await self.inner(scope, receive, send)


@database_sync_to_async
def _unit_loaded(user: Any) -> Any:
    """Resolve the lazy session user and its unit here, in a thread, not on the event loop."""
    return User.objects.select_related("unit").get(pk=user.pk)


def LiveAuthStack(inner: Any) -> Any:  # noqa: N802  (named like channels' AuthMiddlewareStack)
    return AuthMiddlewareStack(LiveAuthMiddleware(inner))
