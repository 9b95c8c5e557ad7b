"""One exception handler: service errors and validation errors become clear HTTP answers.

Shape: {"detail": "<中文说明>", "rule": "<rule name>", "field": "<field or null>", "errors": {...}}
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

from tickets.db_errors import database_unavailable
from tickets.errors import DomainError

UNAVAILABLE_BODY: dict[str, Any] = {
    "detail": "数据库暂时不可用，请稍后重试",
    "rule": "database_unavailable",
    "field": None,
    "errors": {},
}
SERVER_ERROR_BODY: dict[str, Any] = {
    "detail": "服务器内部错误，已记录，请联系管理员",
    "rule": "server_error",
    "field": None,
    "errors": {},
}


def _first_message(errors: Any) -> tuple[str | None, str]:
    if isinstance(errors, dict):
        for key, value in errors.items():
            _, message = _first_message(value)
            return (None if key == "non_field_errors" else str(key)), message
    if isinstance(errors, list) and errors:
        return _first_message(errors[0])
    return None, str(errors)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(
            {
                "detail": exc.message,
                "rule": exc.rule,
                "field": exc.field,
                "errors": {exc.field: [exc.message]} if exc.field else {},
            },
            status=exc.status_code,
        )
    if isinstance(exc, exceptions.ValidationError):
        field, message = _first_message(exc.detail)
        return Response(
            {
                "detail": f"{field}: {message}" if field else message,
                "rule": "invalid_input",
                "field": field,
                "errors": exc.detail,
            },
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, exceptions.ParseError):
        return Response(
            {"detail": "请求体不是有效的 JSON", "rule": "malformed_json", "field": None, "errors": {}},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, DatabaseError) and database_unavailable(exc):
        # A connection lost or refused, a restart, a lock timeout: worth retrying. Other database
        # errors (a missing table, bad SQL) fall through to Django's 500 and are logged as errors.
        return Response(UNAVAILABLE_BODY, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "5"})
    if isinstance(exc, Http404):
        return Response({"detail": "未找到", "rule": "not_found", "field": None, "errors": {}}, status=404)
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "detail" in response.data:
        response.data = {
            "detail": str(response.data["detail"]),
            "rule": getattr(exc, "default_code", "error"),
            "field": None,
            "errors": {},
        }
    return response
