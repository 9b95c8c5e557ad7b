"""Export endpoints: tickets as CSV/XLSX (the ticket list's filters), scorecards as CSV."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from tickets.core import selectors
from tickets.core.apis.base import STAFF_ROLES, HasRole, staff_user
from tickets.core.apis.filters import TicketFilter
from tickets.core.dates import day_parse
from tickets.core.models import Ticket
from tickets.errors import InvalidInput
from tickets.metrics import selectors as metrics_selectors
from tickets.metrics.models import COUNTERS
from tickets.metrics.services import exports

#: Row count of an export, sent before the body so that a page can show progress while it streams.
ROWS_HEADER = "X-Export-Rows"


def _filtered(request: Request) -> tuple[QuerySet[Ticket], dict[str, str]]:
    filters = exports.export_filters(request.query_params)
    found = TicketFilter(request.query_params, queryset=selectors.ticket_list(staff_user(request)))
    if not found.is_valid():
        name, messages = next(iter(found.errors.items()))  # the first bad parameter, with its reason
        raise InvalidInput(f"筛选条件不正确：{name}：{messages[0]}", field=name, rule="filter")
    return found.qs, filters


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _name(stem: str, ext: str) -> str:
    return f"{stem}-{timezone.localtime().strftime('%Y%m%d-%H%M%S')}.{ext}"


class TicketCsvExportApi(APIView):
    permission_classes = [HasRole]
    roles = STAFF_ROLES

    @extend_schema(summary="导出工单（CSV）", responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request: Request) -> StreamingHttpResponse:
        user = staff_user(request)
        tickets, filters = _filtered(request)
        limited = exports.export_prepare(user=user, tickets=tickets, what="tickets", fmt="csv", filters=filters)
        stream = exports.csv_stream(exports.TICKET_HEADER, exports.ticket_rows(limited, user))
        response = StreamingHttpResponse(stream, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{_name("tickets", "csv")}"'
        response[ROWS_HEADER] = str(limited.count())  # the page's progress bar counts lines against this
        return response


class TicketXlsxExportApi(APIView):
    permission_classes = [HasRole]
    roles = STAFF_ROLES

    @extend_schema(summary="导出工单（XLSX）", responses={(200, XLSX): OpenApiTypes.BINARY})
    def get(self, request: Request) -> FileResponse:
        user = staff_user(request)
        tickets, filters = _filtered(request)
        limited = exports.export_prepare(user=user, tickets=tickets, what="tickets", fmt="xlsx", filters=filters)
        handle = exports.xlsx_file(exports.TICKET_HEADER, exports.ticket_rows(limited, user), "工单")
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=_name("tickets", "xlsx"),
            content_type=XLSX,
        )
        response[ROWS_HEADER] = str(limited.count())
        return response


#: The 考核数据 CSV's column headers (domain.md §6 names), keyed by the scorecard row's keys
#: (`metrics.selectors.unit_scorecards`). Counters are what `metrics/services/rules.py` counts; rates
#: are 0–1 fractions, empty where the denominator is 0.
METRICS_CSV_HEADERS: dict[str, str] = {
    "unit": "单位编码",
    "unit_name": "单位名称",
    "dispatched": "派单数",
    "signed_on_time": "按时签收数",
    "due": "应办结数",
    "replied_on_time": "按时办结数",
    "returns_approved": "退单数（已批准）",
    "reopened": "重办数",
    "closed": "办结数",
    "closed_first_time": "一次办结数",
    "answered_directly": "直接答复数",
    "accepted": "受理数",
    "repeat_calls": "重复来电数",
    "valid_callbacks": "有效回访数",
    "contacted": "回访已联系数",
    "solved": "回访已解决数",
    "satisfied": "满意数",
    "basically_satisfied": "基本满意数",
    "dissatisfied": "不满意数",
    "led": "主办工单数",  # a unit once per ticket it leads: 重复来电率's base for a unit
    "ratings": "评价数（含未答全的）",  # every rating; 有效回访数 counts the complete ones
    "sign_on_time_rate": "按时签收率",
    "reply_on_time_rate": "按时办结率",
    "return_rate": "退单率",
    "reopen_rate": "重办率",
    "first_time_rate": "一次办结率",
    "direct_answer_rate": "直接答复率",
    "repeat_call_rate": "重复来电率",
    "response_rate": "响应率",
    "solved_rate": "解决率",
    "satisfaction_rate": "满意率",
    "composite": "综合得分",
}


class MetricsCsvExportApi(APIView):
    """The scorecards of GET /api/metrics/units/ (same parameters) as CSV."""

    permission_classes = [HasRole]
    roles = STAFF_ROLES

    @extend_schema(summary="导出考核指标（CSV）", responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request: Request) -> StreamingHttpResponse:
        params = request.query_params
        day = day_parse(params["date"], field="date") if "date" in params else timezone.localdate()
        cards = metrics_selectors.unit_scorecards(
            user=staff_user(request),
            period=params.get("period", "month"),
            day=day,
            group=params.get("group") or None,
        )
        rate_names = [k for k in cards["total"] if k not in COUNTERS]
        keys = ["unit", "unit_name", *COUNTERS, *rate_names]
        header = [METRICS_CSV_HEADERS[k] for k in keys]
        rows = [[r[k] if r[k] is not None else "" for k in keys] for r in cards["units"]]
        exports.export_log_metrics(user=staff_user(request), filters=exports.export_filters(params), rows=len(rows))
        response = StreamingHttpResponse(exports.csv_stream(header, rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{_name("metrics", "csv")}"'
        response[ROWS_HEADER] = str(len(rows))
        return response
