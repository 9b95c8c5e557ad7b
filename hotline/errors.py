"""Django's error handlers: the API's JSON shape under /api/ (found by fuzzing: an id that is not a
number reached Django's HTML 404), Chinese pages elsewhere.

`server_error` (handler500) is the last resort for anything a view or middleware raised that nothing
else answered (DRF's handler answers API views itself, see tickets/apis_errors.py): 503 for a
database outage, 500 otherwise. It touches neither the database nor templates that could.
"""

from __future__ import annotations

import json
import sys

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme

from tickets.apis_errors import SERVER_ERROR_BODY, UNAVAILABLE_BODY
from tickets.db_errors import database_unavailable


def _api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _citizen(request: HttpRequest) -> bool:
    """A citizen's page: its errors speak to a citizen (no login, no workspace) and lead back there."""
    return request.path.startswith("/citizen/")


def _home(request: HttpRequest) -> str:
    return "/citizen/" if _citizen(request) else "/"


def _back(request: HttpRequest) -> str:
    """Where 返回上一页 leads: the referring page on this site, else the home page."""
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}):
        return referer
    return _home(request)


def _reason(exception: Exception | None) -> str:
    """The Chinese reason a view raised (Http404("工单不存在或无权查看")), never Django's English."""
    text = str(exception or "")
    return text if text and not text.isascii() and len(text) < 200 else ""


def error_page(
    request: HttpRequest, *, status: int, title: str, text: str, steps: list[str], reason: str = ""
) -> HttpResponse:
    """A styled Chinese error page that says what to do next, with a way back (templates/error.html)."""
    context = {
        "title": title,
        "text": text,
        "steps": steps,
        "reason": reason,
        "status": status,
        "back": _back(request),
        "home": _home(request),
        "home_label": "回到市民服务首页" if _citizen(request) else "回到首页",
    }
    return HttpResponse(render_to_string("error.html", context), status=status)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _api(request):
        return JsonResponse({"detail": "未找到", "rule": "not_found", "field": None, "errors": {}}, status=404)
    if request.path.startswith("/open311/"):
        return _georeport_error(request, 404, "未找到")
    if _citizen(request):
        return error_page(
            request,
            status=404,
            title="找不到您要的页面",
            text="链接可能有误或已失效。",
            reason=_reason(exception),
            steps=[
                "核对网址是否完整",
                "查询诉求进度请在市民服务首页点“查询办理进度”，输入工单号和手机号后四位",
                "也可拨打12345热线咨询",
            ],
        )
    return error_page(
        request,
        status=404,
        title="找不到您要的页面或工单",
        text="链接可能有误，或该工单不在您的办理范围内（承办单位只能查看派给本单位及下级单位的工单）。",
        reason=_reason(exception),
        steps=["核对工单号或网址是否完整", "回到工作台，从列表中打开工单", "如确需查看其他单位的工单，请联系热线中心"],
    )


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _api(request):
        return JsonResponse({"detail": "无权执行此操作", "rule": "forbidden", "field": None, "errors": {}}, status=403)
    return error_page(
        request,
        status=403,
        title="您没有权限执行此操作",
        text="当前登录的账号没有这项操作的权限。",
        reason=_reason(exception),
        steps=["确认登录的是正确的账号（右上角显示姓名和岗位）", "需要此权限时，请联系系统管理员"],
    )


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
    if _citizen(request):
        return error_page(
            request,
            status=403,
            title="页面已过期，本次提交没有生效",
            text="页面打开时间过长，或浏览器禁用了 Cookie（安全校验未通过）。",
            steps=["返回上一页，刷新后重新填写并提交", "若反复出现，请允许本网站使用 Cookie，或拨打12345热线反映"],
        )
    return error_page(
        request,
        status=403,
        title="页面已过期，请求未被接受",
        text="页面打开时间过长，或请求来源不明（安全校验未通过），本次提交没有生效。",
        steps=["返回上一页，刷新后重新提交", "若反复出现，请重新登录"],
    )


JSON_PREFIXES = ("/api/", "/open311/")

_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · 12345 热线</title></head>
<body style="font-family: sans-serif; max-width: 36rem; margin: 4rem auto; padding: 0 1rem; line-height: 1.6">
<h1 style="font-size: 1.4rem">{title}</h1><p>{text}</p>
<p>接下来可以：稍等片刻后重新加载本页；仍不行请联系系统管理员，并告知出错的时间。</p>
<p><a href="">重新加载</a> · <a href="/">回到首页</a></p></body></html>
"""


def server_error(request: HttpRequest) -> HttpResponse:
    exc = sys.exc_info()[1]
    unavailable = exc is not None and database_unavailable(exc)
    status = 503 if unavailable else 500
    if request.path.startswith(JSON_PREFIXES):
        body = UNAVAILABLE_BODY if unavailable else SERVER_ERROR_BODY
        response = HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type="application/json")
    else:
        title, text = (
            ("数据库暂时不可用", "系统正在恢复，本次操作未能完成，请稍后重试。")
            if unavailable
            else ("服务器内部错误", "错误已记录，请稍后重试；如果问题持续，请联系系统管理员。")
        )
        page = _PAGE.format(title=title, text=text)
        response = HttpResponse(page, status=status, content_type="text/html; charset=utf-8")
    if unavailable:
        response["Retry-After"] = "5"
    return response


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """400 raised by Django before any view ran: a body over the upload limits (too many files,
    too much form data) or a request it found suspicious. Chinese, and JSON under /api/."""
    if isinstance(exception, TooManyFilesSent):
        rule, text = "too_many_files", f"一次最多提交 {settings.DATA_UPLOAD_MAX_NUMBER_FILES} 个文件"
    elif isinstance(exception, RequestDataTooBig | TooManyFieldsSent):
        rule, text = "request_too_big", "提交的表单数据过大"
    else:
        rule, text = "bad_request", "请求无效"
    return refused(request, detail=text, rule=rule, field=None)


def refused(request: HttpRequest, *, detail: str, rule: str, field: str | None) -> HttpResponse:
    """A 400 answered before any view ran (hotline/input_guard.py): GeoReport's error list under
    /open311/, the API's JSON shape under /api/, a Chinese page elsewhere."""
    if request.path.startswith("/open311/"):
        return _georeport_error(request, 400, f"{field}：{detail}" if field else detail)
    if request.path.startswith(JSON_PREFIXES):
        body = {"detail": detail, "rule": rule, "field": field, "errors": {field: [detail]} if field else {}}
        return HttpResponse(json.dumps(body, ensure_ascii=False), status=400, content_type="application/json")
    page = _PAGE.format(title="请求无效", text=f"{detail}。请检查输入后重试。")
    return HttpResponse(page, status=400, content_type="text/html; charset=utf-8")


def _georeport_error(request: HttpRequest, status: int, description: str) -> HttpResponse:
    """GeoReport v2's error list, in the format the path asks for (XML for .xml, JSON otherwise)."""
    if request.path.endswith(".xml"):
        xml = (
            f'<?xml version="1.0" encoding="utf-8"?><errors><error><code>{status}</code>'
            f"<description>{escape(description)}</description></error></errors>"
        )
        return HttpResponse(xml, status=status, content_type="text/xml; charset=utf-8")
    errors = [{"code": status, "description": description}]
    return HttpResponse(json.dumps(errors, ensure_ascii=False), status=status, content_type="application/json")
