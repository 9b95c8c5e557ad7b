"""Staff API login and logout. Tokens: tickets/accounts/services.py; lockout: tickets/accounts/lockout.py."""

from __future__ import annotations

from django.http import HttpResponseBase
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tickets.accounts import services as accounts_services
from tickets.accounts.lockout import lockout_response
from tickets.accounts.selectors import api_token_expires_at
from tickets.core.apis.base import HasRole, StrictSerializer, TextField
from tickets.errors import LoginLockedOut
from tickets.throttles import LoginThrottle


class TokenLoginInput(StrictSerializer):
    username = TextField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class TokenLoginOutput(serializers.Serializer):  # type: ignore[type-arg]
    token = serializers.CharField(help_text="放在请求头 `Authorization: Token <token>` 中；只显示这一次")
    expires_at = serializers.DateTimeField(help_text="令牌失效时间（登录后 HOTLINE_TOKEN_TTL_HOURS 小时）")
    username = serializers.CharField()
    role = serializers.CharField()


class TokenLoginApi(APIView):
    """Username + password → a new API token for this login (several logins, several tokens).

    Rate-limited per client address (one counter with the pages' and the admin's login) and
    locked per account after repeated wrong passwords (429, `rule: locked_out`, Retry-After).
    """

    authentication_classes: list[type[BaseAuthentication]] = []  # a stale session must not demand CSRF
    permission_classes = [AllowAny]
    throttle_classes = [LoginThrottle]

    @extend_schema(request=TokenLoginInput, responses={200: TokenLoginOutput}, summary="登录，获取 API 令牌")
    def post(self, request: Request) -> HttpResponseBase:
        data = TokenLoginInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            key, token = accounts_services.api_token_login(
                request=request, username=data.validated_data["username"], password=data.validated_data["password"]
            )
        except LoginLockedOut:
            return lockout_response(request, credentials={"username": data.validated_data["username"]})  # type: ignore[arg-type]
        out = {
            "token": key,
            "expires_at": api_token_expires_at(token),
            "username": token.user.username,
            "role": token.user.role,
        }
        return Response(TokenLoginOutput(out).data)


class LogoutApi(APIView):
    """Revoke the token this request carries (or end the page session it came with); live
    sockets opened with it are closed at once."""

    permission_classes = [HasRole]

    @extend_schema(request=None, responses={204: None}, summary="注销当前令牌或会话")
    def post(self, request: Request) -> Response:
        accounts_services.staff_logout(request=request)
        return Response(status=204)
