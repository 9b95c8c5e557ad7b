"""OpenAPI: every operation documents the error answers it can give, in the one shape
tickets/apis_errors.py produces. Found by fuzzing (Schemathesis): the schema listed only the
success code, so a client generated from it knew nothing of 400/404/409.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from tickets.core.apis.base import StrictSerializer, TextField


class ErrorOutput(serializers.Serializer):  # type: ignore[type-arg]
    """{"detail": 中文说明, "rule": rule name, "field": field or null, "errors": {field: [messages]}}."""

    detail = serializers.CharField()
    rule = serializers.CharField()
    field = serializers.CharField(allow_null=True)
    errors = serializers.DictField(child=serializers.JSONField())  # type: ignore[assignment]


ERROR_DESCRIPTIONS = {
    "400": "输入无效：`field` 指出字段，`errors` 列出每个字段的问题",
    "401": "未登录或令牌无效",
    "403": "当前角色无权执行此操作",
    "404": "对象不存在或不在您的可见范围内（两者无法区分）",
    "409": "业务规则不允许此操作：`rule` 给出规则名称",
    "429": "请求过于频繁，请稍后再试（`Retry-After` 给出秒数）",
    "503": "数据库暂时不可用，请稍后重试",
}


# The characters TextField refuses (tickets/core/text.py), as a JSON Schema (ECMA) pattern.
NO_CONTROL_CHARS = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$"


class HotlineAutoSchema(AutoSchema):
    """The schema states what the strict input layer enforces, so a client (or a fuzzer) built from
    it sends only what the server accepts: no unknown fields, no control characters."""

    def _map_serializer(self, serializer: Any, direction: str, bypass_extensions: bool = False) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_serializer(serializer, direction, bypass_extensions)  # type: ignore[arg-type]
        if direction == "request" and isinstance(serializer, StrictSerializer):
            schema["additionalProperties"] = False
        return schema

    def _map_serializer_field(self, field: Any, direction: str, bypass_extensions: bool = False) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_serializer_field(field, direction, bypass_extensions)  # type: ignore[arg-type]
        if direction == "request" and isinstance(field, TextField):
            schema["pattern"] = NO_CONTROL_CHARS
        return schema

    def _error_codes(self) -> list[str]:
        view = self.view
        public = any(p is AllowAny for p in getattr(view, "permission_classes", []))
        has_path_params = "{" in self.path
        has_body = self.method in ("POST", "PUT", "PATCH")
        paginated = self._get_paginator() is not None
        codes = ["400"] if has_body or self.method == "GET" else []
        codes.append("401")
        if not public:
            codes.append("403")
        if has_path_params or has_body or paginated or self.method == "GET":
            codes.append("404")  # referenced ids in a body or a query; an invalid page cursor
        if self.method not in ("GET", "HEAD", "OPTIONS"):
            codes.append("409")
        codes += ["429", "503"]
        return codes

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:  # type: ignore[override]
        bodies: dict[str, Any] = super()._get_response_bodies(direction)  # type: ignore[arg-type]
        if direction != "response":
            return bodies
        for code in self._error_codes():
            if code not in bodies:
                answer = self._get_response_for_code(ErrorOutput, code, media_types=["application/json"])
                answer["description"] = ERROR_DESCRIPTIONS[code]
                bodies[code] = answer
        return bodies
