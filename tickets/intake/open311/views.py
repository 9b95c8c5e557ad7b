"""Open311 GeoReport v2: partner systems file into 12345 and read back statuses.

Formats: `.json` and `.xml`, as the spec says. Errors are a list of {code, description}.
Privacy (domain.md §7): without an api_key a GET shows only the status fields of tickets filed
through Open311 that are not 保密/匿名; with its api_key a partner also reads the description and
address of the requests it filed. Nobody reads another channel's tickets here.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from tickets.core.actors import Actor
from tickets.core.dates import moment_parse
from tickets.core.models import Channel, Ticket
from tickets.core.public import is_open, public_reply
from tickets.core.states import ENDED_TICKET_STATES
from tickets.core.text import has_control_chars, normalise_phone, text_checked
from tickets.errors import DomainError, InvalidInput
from tickets.intake.models import PartnerKey
from tickets.intake.services import idempotency, intake, partners
from tickets.org.models import Category

MAX_RANGE = timedelta(days=90)
MAX_RESULTS = 1000
NOTICE = "诉求已受理，将按规定时限转交承办单位办理。"


# --- rendering ----------------------------------------------------------------------------------


def _xml(root: str, item: str, rows: list[dict[str, Any]]) -> str:
    top = ET.Element(root)
    for row in rows:
        node = ET.SubElement(top, item)
        for key, value in row.items():
            child = ET.SubElement(node, key)
            if isinstance(value, bool):
                child.text = "true" if value else "false"
            elif value is not None:
                child.text = str(value)
    return '<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="unicode")


def _render(fmt: str, root: str, item: str, rows: list[dict[str, Any]], status: int = 200) -> HttpResponse:
    if fmt == "xml":
        return HttpResponse(_xml(root, item, rows), status=status, content_type="text/xml; charset=utf-8")
    return JsonResponse(rows, safe=False, status=status, json_dumps_params={"ensure_ascii": False})


def _error(fmt: str, status: int, description: str) -> HttpResponse:
    return _render(fmt, "errors", "error", [{"code": status, "description": description}], status=status)


def _w3c(value: datetime | None) -> str | None:
    return timezone.localtime(value).replace(microsecond=0).isoformat() if value else None


# --- services.json ---------------------------------------------------------------------------


@require_GET
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    """GET /open311/v2/services.json — the categories (事项分类) one can file under."""
    rows = []
    for cat in Category.objects.filter(is_active=True).select_related("parent").order_by("path"):
        top = cat.lineage()[-1]
        rows.append(
            {
                "service_code": cat.code,
                "service_name": cat.name,
                "description": f"{top.name} · {cat.name}" if top.pk != cat.pk else cat.name,
                "metadata": False,
                "type": "realtime",
                "keywords": ",".join(c.name for c in reversed(cat.lineage())),
                "group": top.name,
            }
        )
    return _render(fmt, "services", "service", rows)


# --- requests.json -------------------------------------------------------------------------


def _partner(request: HttpRequest, params: Any) -> PartnerKey | None:
    key = params.get("api_key", "")
    return partners.partner_for_key(key) if key else None


def _row(ticket: Ticket, *, full: bool) -> dict[str, Any]:
    reply = public_reply(ticket)
    row: dict[str, Any] = {
        "service_request_id": ticket.number,
        "status": "open" if is_open(ticket) else "closed",
        "status_notes": reply or ticket.get_state_display(),
        "service_name": ticket.category.name if ticket.category else "",
        "service_code": ticket.category.code if ticket.category else "",
        "description": ticket.text if full else "",
        "agency_responsible": ticket.lead_unit.name if ticket.lead_unit else "12345政务服务便民热线",
        "service_notice": NOTICE,
        "requested_datetime": _w3c(ticket.created_at),
        "updated_datetime": _w3c(ticket.updated_at),
        "expected_datetime": _w3c(ticket.due_at),
        "address": ticket.citizen_address if full else "",
        "address_id": "",
        "zipcode": "",
        "lat": None,
        "long": None,
        **(_point(ticket.citizen_address) if full else {}),
        "media_url": "",
    }
    return row


_POINT = re.compile(r"^(-?\d{1,2}(?:\.\d+)?),(-?\d{1,3}(?:\.\d+)?)$")


def _point(address: str) -> dict[str, float]:
    """lat/long of a request filed with coordinates only (stored as "lat,long" in its address)."""
    found = _POINT.match(address)
    return {"lat": float(found.group(1)), "long": float(found.group(2))} if found else {}


def _visible(partner: PartnerKey | None) -> QuerySet[Ticket]:
    qs = Ticket.objects.select_related("category", "lead_unit")
    if partner is not None:
        return qs.filter(external_ref=partners.partner_ref(partner))
    return qs.filter(channel=Channel.OPEN311, confidential=False, anonymous=False)


def _moment(params: Any, name: str) -> datetime | None:
    raw = params.get(name, "")
    if not raw:
        return None
    try:
        return moment_parse(raw, field=name, require_zone=True)
    except InvalidInput as exc:
        raise InvalidInput(f"{name}：{exc.message}", field=name, rule=exc.rule) from None


def _dates(params: Any) -> tuple[datetime, datetime]:
    end = _moment(params, "end_date") or timezone.now()
    start = _moment(params, "start_date") or end - MAX_RANGE
    if end - start > MAX_RANGE:
        start = end - MAX_RANGE
    return start, end


@csrf_exempt
@require_http_methods(["GET", "POST"])
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    """GET: statuses of service requests. POST: file a new one (api_key required)."""
    if request.method == "POST":
        return _create(request, fmt)
    params = request.GET
    try:
        partner = _partner(request, params)
        qs = _visible(partner)
        ids = [i.strip() for i in params.get("service_request_id", "").split(",") if i.strip()]
        if ids:
            qs = qs.filter(number__in=ids[:MAX_RESULTS])  # the spec: ids override the other filters
        else:
            start, end = _dates(params)
            qs = qs.filter(created_at__gte=start, created_at__lte=end)
            codes = [c.strip() for c in params.get("service_code", "").split(",") if c.strip()]
            if codes:
                qs = qs.filter(category__code__in=codes)
            statuses = {s.strip() for s in params.get("status", "").split(",") if s.strip()}
            if statuses - {"open", "closed"}:
                raise InvalidInput("status 只能是 open 或 closed", field="status", rule="choice")
            if statuses == {"open"}:
                qs = qs.exclude(state__in=ENDED_TICKET_STATES)
            elif statuses == {"closed"}:
                qs = qs.filter(state__in=ENDED_TICKET_STATES)
    except DomainError as exc:
        return _error(fmt, exc.status_code, exc.message)
    except ValueError as exc:
        return _error(fmt, 400, str(exc))
    rows = [_row(t, full=partner is not None) for t in qs.order_by("-id")[:MAX_RESULTS]]
    return _render(fmt, "service_requests", "request", rows)


@require_GET
def request_detail(request: HttpRequest, request_id: str, fmt: str) -> HttpResponse:
    """GET /open311/v2/requests/{id}.json — one request, as a one-element list (the spec)."""
    try:
        partner = _partner(request, request.GET)
    except DomainError as exc:
        return _error(fmt, exc.status_code, exc.message)
    ticket = _visible(partner).filter(number=request_id).first()
    if ticket is None:
        return _error(fmt, 404, "未找到该服务请求")
    return _render(fmt, "service_requests", "request", [_row(ticket, full=partner is not None)])


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.content_type not in FORM_TYPES:  # GeoReport v2 files requests as a form
        return _error(fmt, 415, "请以表单编码（application/x-www-form-urlencoded）提交")
    params = request.POST
    try:
        partner = partners.partner_for_key(params.get("api_key", ""))
    except DomainError as exc:
        return _error(fmt, 403, exc.message)
    values = {k: params.get(k, "") for k in params if k != "api_key"}
    if any(has_control_chars(v) for v in values.values()):
        return _error(fmt, 400, "参数包含不允许的控制字符")
    category = Category.objects.filter(code=values.get("service_code", ""), is_active=True).first()
    if category is None:
        return _error(fmt, 404, "service_code 不存在")
    description = values.get("description", "").strip()
    if len(description) < 2:
        return _error(fmt, 400, "description 必填（诉求内容）")
    lat, lng = values.get("lat", "").strip(), values.get("long", "").strip()
    try:
        address = text_checked(
            values.get("address_string", ""),
            field="address_string",
            max_length=settings.TICKET_ADDRESS_MAX,
            label="address_string（地址）",
        )
        place = _coordinates(lat, lng)
        if not address and not place:
            return _error(fmt, 400, "需要 address_string 或 lat/long")
        phone = normalise_phone(values.get("phone", ""), field="phone")
        name = f"{values.get('last_name', '')}{values.get('first_name', '')}".strip()

        def file() -> tuple[int, dict[str, Any]]:
            ticket = intake.ticket_create(
                actor=Actor.system(f"open311:{partner.name}"),
                channel=Channel.OPEN311,
                text=intake.truncate_text(description),
                citizen_name=name[:64],
                citizen_phone=phone,
                citizen_address=address or place,
                category=category,
                external_ref=partners.partner_ref(partner),
                raw={"open311": values, "partner": partner.name},
            )
            row = {"service_request_id": ticket.number, "service_notice": NOTICE}
            return 201, {**row, "account_id": values.get("account_id") or None}

        # A partner retrying after a timeout sends the same Idempotency-Key and gets the first
        # answer back instead of a second ticket (GeoReport itself has no such field).
        key = request.headers.get("Idempotency-Key")
        if key is None:
            status, row = file()
        else:
            status, row, _ = idempotency.run_once(scope=f"open311:{partner.pk}", key=key, payload=values, run=file)
    except DomainError as exc:
        return _error(fmt, exc.status_code, exc.message)
    return _render(fmt, "service_requests", "request", [row], status=status)


def _coordinates(lat: str, lng: str) -> str:
    """"lat,long" of a point on the Earth, "" when neither is given; InvalidInput naming the bad one."""
    if not lat and not lng:
        return ""
    for name, raw, bound in (("lat", lat, 90.0), ("long", lng, 180.0)):
        try:
            value = float(raw)
        except ValueError:
            raise InvalidInput(f"{name} 必须是十进制度数", field=name, rule="type") from None
        if not math.isfinite(value) or abs(value) > bound:
            raise InvalidInput(f"{name} 超出范围（-{bound:g} 至 {bound:g}）", field=name, rule="range")
    return f"{float(lat):.6f},{float(lng):.6f}"


def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    """GET /open311/discovery.json — where the endpoint lives and what it speaks."""
    base = request.build_absolute_uri("/open311/v2/")
    data = {
        "changeset": "2025-01-01T00:00:00+08:00",
        "contact": "12345政务服务便民热线",
        "key_service": "向热线中心申请 api_key",
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": base,
                "formats": ["application/json", "text/xml"],
                "type": "production",
            }
        ],
    }
    if fmt == "xml":
        return _render(
            fmt, "discovery", "endpoint", [{"url": base, "specification": "http://wiki.open311.org/GeoReport_v2"}]
        )
    return JsonResponse(data, json_dumps_params={"ensure_ascii": False})
