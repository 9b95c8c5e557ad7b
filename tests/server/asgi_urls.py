"""Views for tests/server/test_asgi_handling.py: each notes the thread it ran in."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

from asgiref.sync import async_to_sync
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import path

seen: dict[str, list[int]] = {"view": [], "parts": [], "loops": []}


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


async def _the_running_loop() -> int:
    return id(asyncio.get_running_loop())


def pushes(request: HttpRequest) -> HttpResponse:
    """As a view that pushes to the live feed: a coroutine run from the view's thread."""
    seen["view"].append(threading.get_ident())
    seen["loops"].append(async_to_sync(_the_running_loop)())
    return HttpResponse("已推送")


def fails(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("the view failed")


urlpatterns = [
    path("in-hand/", in_hand),
    path("streamed/", streamed),
    path("pushes/", pushes),
    path("fails/", fails),
]
