"""Scorecard endpoints (§6): metrics per unit/group/period and the monthly 红榜/黑榜."""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tickets import selectors_metrics
from tickets.apis.base import STAFF_ROLES, HasRole
from tickets.errors import InvalidInput


def _parse(value: str, fmt: str, field: str) -> date:
    try:
        return datetime.strptime(value, fmt).date()
    except ValueError:
        raise InvalidInput("日期格式不正确", field=field, rule="date") from None


class UnitMetricsApi(APIView):
    """GET ?period=day|week|month|year&date=YYYY-MM-DD&group=districts|departments|streets|utilities"""

    permission_classes = [HasRole]
    roles = STAFF_ROLES

    @extend_schema(
        summary="单位考核指标",
        parameters=[
            OpenApiParameter("period", str, enum=["day", "week", "month", "year"]),
            OpenApiParameter("date", OpenApiTypes.DATE),
            OpenApiParameter("group", str, enum=["departments", "districts", "streets", "utilities", "centre"]),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        day = _parse(params["date"], "%Y-%m-%d", "date") if "date" in params else timezone.localdate()
        return Response(
            selectors_metrics.unit_scorecards(
                user=request.user,  # type: ignore[arg-type]
                period=params.get("period", "month"),
                day=day,
                group=params.get("group") or None,
            )
        )


class RankingApi(APIView):
    """GET ?month=YYYY-MM&group=streets → the month's ranking with top and bottom lists and trends."""

    permission_classes = [HasRole]
    roles = STAFF_ROLES

    @extend_schema(
        summary="月度红黑榜",
        parameters=[
            OpenApiParameter("month", str, description="YYYY-MM", pattern=r"^[0-9]{4}-[0-9]{2}$"),
            OpenApiParameter("group", str, enum=["departments", "districts", "streets", "utilities", "centre"]),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        month = _parse(params["month"], "%Y-%m", "month") if "month" in params else timezone.localdate()
        return Response(
            selectors_metrics.ranking(user=request.user, month=month, group=params.get("group", ""))  # type: ignore[arg-type]
        )
