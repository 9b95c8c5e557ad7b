"""The API's one JSON parser: a body too large, nested too deep, or carrying a NUL byte or an integer no
column can hold is a 400 naming the rule before any view or serializer sees it.

DRF's JSONParser reads the whole stream (Django's DATA_UPLOAD_MAX_MEMORY_SIZE does not apply to it),
and the standard library's decoder recurses once per level: `[[[[…` ten thousand deep raised
RecursionError, which DRF does not catch (HTTP 500). PostgreSQL refuses NUL in text and jsonb, and
integers past 64 bits overflow SQLite; both used to fail at the first query instead of at the door.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

from tickets.errors import InvalidInput
from tickets.json_input import json_value_check


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
