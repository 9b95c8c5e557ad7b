"""Staff API token authentication (`Authorization: Token <key>`): one query per request, the
user's unit loaded with the token. The rules (lifetime, active user, current password) are in
tickets/accounts/selectors.py and are the same for the live socket."""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import TokenAuthentication as DrfTokenAuthentication
from rest_framework.exceptions import AuthenticationFailed


class TokenAuthentication(DrfTokenAuthentication):
    # A subclass of DRF's, so drf-spectacular documents the `Token` scheme as before; the model
    # is ours (tickets.models.ApiToken: one key per login), not rest_framework.authtoken's.
    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        from tickets.accounts.selectors import api_token_for_key  # loaded before the app registry

        token = api_token_for_key(key=key)
        if token is None:
            raise AuthenticationFailed("令牌无效、已过期或已注销，请重新登录")
        return token.user, token
