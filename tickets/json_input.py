"""Limits on JSON that arrives from outside, shared by the API's parser (tickets/core/apis/parsers.py) and
the live socket (channels_app/consumers.py): depth, NUL bytes, numbers no column can hold."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

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
