"""Is a staff credential still good? Read on every API request (token), and by the live socket
when it connects and again every LIVE_AUTH_RECHECK_SECONDS (token or session)."""

from __future__ import annotations

import functools
import hashlib
from datetime import datetime
from importlib import import_module
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user
from django.db import connections, router
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]  # not in the stubs
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from tickets.accounts.models import ApiToken
from tickets.accounts.token_rows import token_rows


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
    token = _TokenLookup.on(router.db_for_read(ApiToken)).token(api_token_digest(key))
    if token is None or not api_token_is_valid(token):
        return None
    return token


class _TokenLookup:
    """`ApiToken.objects.select_related("user__unit").filter(digest=…).first()`, compiled once per
    process and database: every API request runs it, and building and compiling that queryset again
    each time cost ~1.3 ms of CPU against ~0.2 ms for the statement itself (bench/intake/README.md).
    The statement, the column converters and the row → objects step are Django's own, taken from
    the compiled query; only the digest changes between calls. The objects are built from the row
    as it is now, so a password changed by any path voids the token at the next request.

    The row itself may come from this process's kept rows
    (tickets/accounts/token_rows.py), which are dropped at the commit of any change to a token, a
    user or a unit; the objects are still built fresh and checked on every request."""

    _PROBE = "\x00digest"

    def __init__(self, alias: str) -> None:
        query = ApiToken.objects.using(alias).select_related("user__unit").filter(digest=self._PROBE)[:1].query
        compiler = query.get_compiler(using=alias)
        self.sql, params = compiler.as_sql()
        if list(params) != [self._PROBE]:  # the digest must be the statement's one parameter
            raise RuntimeError(f"unexpected parameters in the token query: {params!r}")
        self.alias = alias
        self.compiler = compiler
        info = compiler.klass_info
        first, last = info["select_fields"][0], info["select_fields"][-1] + 1
        self.own = slice(first, last)
        self.names = [column[0].target.attname for column in compiler.select[self.own]]
        self.populators = get_related_populators(info, compiler.select, alias)
        self.converters = compiler.get_converters([column[0] for column in compiler.select])

    @staticmethod
    @functools.cache
    def on(alias: str) -> _TokenLookup:
        return _TokenLookup(alias)

    def token(self, digest: str) -> ApiToken | None:
        kept = token_rows(self.alias)
        row = kept.get(digest) if kept is not None else None
        if row is None:
            generation = kept.generation if kept is not None else 0
            with connections[self.alias].cursor() as cursor:
                cursor.execute(self.sql, [digest])
                row = cursor.fetchone()
            if row is None:
                return None  # an unknown key is never kept: guessing keys cannot fill the memory
            if kept is not None:
                kept.keep(digest, row, generation)
        if self.converters:
            row = next(iter(self.compiler.apply_converters([row], self.converters)))
        token = ApiToken.from_db(self.alias, self.names, row[self.own])
        for populator in self.populators:
            populator.populate(row, token)
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
