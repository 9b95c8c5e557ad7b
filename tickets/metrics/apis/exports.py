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
    filters = {k: str(v) for k, v in request.query_params.items()}
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
        header = ["unit", "unit_name", *COUNTERS, *rate_names]
        rows = [[r[k] if r[k] is not None else "" for k in header] for r in cards["units"]]
        exports.export_log_metrics(user=staff_user(request), filters=dict(params.items()), rows=len(rows))
        response = StreamingHttpResponse(exports.csv_stream(header, rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{_name("metrics", "csv")}"'
        response[ROWS_HEADER] = str(len(rows))
        return response
