"""Views for tests/server/test_asgi_handling.py: each notes the thread it ran in."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import path

seen: dict[str, list[int]] = {"view": [], "parts": []}


def in_hand(request: HttpRequest) -> HttpResponse:
    seen["view"].append(threading.get_ident())
    return HttpResponse("办结")


def streamed(request: HttpRequest) -> StreamingHttpResponse:
    seen["view"].append(threading.get_ident())
    lines = int(request.GET["lines"])

    def parts() -> Iterator[bytes]:
        for number in range(lines):
            seen["parts"].append(threading.get_ident())
            yield f"{number},工单\n".encode()

    return StreamingHttpResponse(parts(), content_type="text/csv; charset=utf-8")


urlpatterns = [path("in-hand/", in_hand), path("streamed/", streamed)]
