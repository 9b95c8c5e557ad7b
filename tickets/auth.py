"""API token authentication that loads the user's unit with the token: one query per request."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from rest_framework.authentication import TokenAuthentication as DrfTokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

if TYPE_CHECKING:  # the model is imported lazily, as DRF does, so this module loads before the apps
    from rest_framework.authtoken.models import Token


class TokenAuthentication(DrfTokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        model = cast("type[Token]", self.get_model())
        token = model.objects.select_related("user__unit").filter(key=key).first()
        if token is None or not token.user.is_active:
            raise AuthenticationFailed("无效的令牌或账号已停用")
        return token.user, token
