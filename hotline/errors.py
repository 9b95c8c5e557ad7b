"""Error pages: the API's JSON shape under /api/ (found by fuzzing: an id that is not a number
reached Django's HTML 404), Chinese pages elsewhere."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults


def _api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _api(request):
        return JsonResponse({"detail": "未找到", "rule": "not_found", "field": None, "errors": {}}, status=404)
    return defaults.page_not_found(request, exception)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A POST without a valid CSRF token (a forged cross-site form, or a page open for too long)."""
    if _api(request):
        body: dict[str, object] = {
            "detail": "CSRF 校验失败，请刷新页面后重试",
            "rule": "csrf",
            "field": None,
            "errors": {},
        }
        return JsonResponse(body, status=403)
    html = (
        '<!doctype html><html lang="zh-hans"><head><meta charset="utf-8"><title>请求被拒绝 · 12345</title></head>'
        "<body><h1>请求被拒绝</h1><p>页面已过期或来源不明（CSRF 校验失败）。请返回并刷新页面后重试。</p>"
        '<p><a href="/">返回首页</a></p></body></html>'
    )
    return HttpResponse(html, status=403)
