"""NUL bytes never get past the door: PostgreSQL refuses them in text, so a `%00` in a query
parameter, the path or a header that a view hands to a query (search `q=`, a ticket number, the
session cookie, an API token, an Idempotency-Key) was a DataError, HTTP 500, and only on PostgreSQL.

Bodies are checked where they are read: JSON by tickets/core/apis/parsers.py, forms by the fields and
services that take them (tickets/core/text.py), Twilio payloads by their cleaner.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from hotline.errors import refused

MESSAGE = "请求包含不允许的空字符（NUL）"
_HEADER_META = ("CONTENT_TYPE", "CONTENT_LENGTH")


def nul_byte_place(request: HttpRequest) -> str | None:
    """Where a NUL byte is in the URL or the headers: "path", a parameter's name or a header's; else None."""
    if "\x00" in request.path_info:
        return "path"
    for name, values in request.GET.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            return name.replace("\x00", "")
    for key, value in request.META.items():
        if (key.startswith("HTTP_") or key in _HEADER_META) and isinstance(value, str) and "\x00" in value:
            return key.removeprefix("HTTP_").replace("_", "-").title()
    return None


class NulByteGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        place = nul_byte_place(request)
        if place is not None:
            return refused(request, detail=MESSAGE, rule="nul_byte", field=place)
        return self.get_response(request)
