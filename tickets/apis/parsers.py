"""The API's one JSON parser: a body too large, nested too deep, or carrying a NUL byte or an integer no
column can hold is a 400 naming the rule before any view or serializer sees it.

DRF's JSONParser reads the whole stream (Django's DATA_UPLOAD_MAX_MEMORY_SIZE does not apply to it),
and the standard library's decoder recurses once per level: `[[[[…` ten thousand deep raised
RecursionError, which DRF does not catch (HTTP 500). PostgreSQL refuses NUL in text and jsonb, and
integers past 64 bits overflow SQLite; both used to fail at the first query instead of at the door.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

from tickets.errors import InvalidInput

INT64 = 2**63


def _top_field(path: tuple[Any, ...]) -> str | None:
    return str(path[0]) if path and isinstance(path[0], str) else None


def json_value_check(data: Any, *, max_depth: int) -> None:
    """Walk a parsed JSON value without recursion; refuse depth, NUL bytes and 64-bit overflow."""
    stack: list[tuple[Any, int, tuple[Any, ...]]] = [(data, 1, ())]
    while stack:
        value, depth, path = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > max_depth:
                raise InvalidInput(
                    f"JSON 嵌套层级过深（不能超过 {max_depth} 层）", rule="json_too_deep", field=_top_field(path)
                )
            items = value.items() if isinstance(value, Mapping) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and "\x00" in key:
                    raise InvalidInput("字段名包含空字符（NUL）", rule="nul_byte", field=_top_field(path))
                stack.append((item, depth + 1, (*path, key)))
        elif isinstance(value, str):
            if "\x00" in value:
                raise InvalidInput("包含不允许的空字符（NUL）", rule="nul_byte", field=_top_field(path))
        elif isinstance(value, int) and not isinstance(value, bool) and not -INT64 <= value < INT64:
            raise InvalidInput("整数超出范围", rule="number_range", field=_top_field(path))
        elif isinstance(value, float) and not math.isfinite(value):  # 1e400 parses as infinity
            raise InvalidInput("数值超出范围", rule="number_range", field=_top_field(path))


class LimitedJSONParser(JSONParser):
    """JSONParser with a size cap (JSON_BODY_MAX_BYTES), a depth cap (JSON_BODY_MAX_DEPTH), and no NUL."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        limit: int = settings.JSON_BODY_MAX_BYTES
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        too_large = InvalidInput(f"请求体过大（JSON 不能超过 {limit // 1024} KB）", rule="json_too_large")
        if declared and declared.isdigit() and int(declared) > limit:
            raise too_large
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise too_large
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        try:
            text = raw.decode(encoding)
            data = json.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except RecursionError:
            max_depth = settings.JSON_BODY_MAX_DEPTH
            raise InvalidInput(f"JSON 嵌套层级过深（不能超过 {max_depth} 层）", rule="json_too_deep") from None
        except (ValueError, LookupError) as exc:  # UnicodeDecodeError is a ValueError
            raise ParseError(f"JSON parse error - {exc}") from None
        json_value_check(data, max_depth=settings.JSON_BODY_MAX_DEPTH)
        return data
