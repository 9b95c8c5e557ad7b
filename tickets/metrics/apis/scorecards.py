"""Scorecard endpoints (§6): metrics per unit/group/period and the monthly 红榜/黑榜."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tickets.core.apis.base import STAFF_ROLES, HasRole
from tickets.core.dates import day_parse, month_parse
from tickets.errors import InvalidInput
from tickets.metrics import selectors as metrics_selectors


class TrendUnitOutput(serializers.Serializer):  # type: ignore[type-arg]
    unit = serializers.CharField(help_text="unit code")
    unit_name = serializers.CharField()
    values = serializers.ListField(child=serializers.FloatField(allow_null=True))


class TrendOutput(serializers.Serializer):  # type: ignore[type-arg]
    group = serializers.CharField()
    metric = serializers.CharField()
    months = serializers.ListField(child=serializers.CharField(), help_text="YYYY-MM, oldest first")
    group_values = serializers.ListField(child=serializers.FloatField(allow_null=True))
    units = TrendUnitOutput(many=True)


class UnitMetricsApi(APIView):
    """GET ?period=day|week|month|year&date=YYYY-MM-DD&group=districts|departments|streets|utilities"""

    permission_classes = [HasRole]
    roles = STAFF_ROLES

    @extend_schema(
        summary="单位考核指标",
        parameters=[
            OpenApiParameter("period", str, enum=["day", "week", "month", "year"]),
            OpenApiParameter("date", OpenApiTypes.DATE),
            OpenApiParameter(
                "group",
                str,
                enum=["", "departments", "districts", "streets", "utilities", "centre"],
                description="one unit group; empty or absent: every unit the reader may see",
            ),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        day = day_parse(params["date"], field="date") if "date" in params else timezone.localdate()
        return Response(
            metrics_selectors.unit_scorecards(
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
        month = month_parse(params["month"], field="month") if "month" in params else timezone.localdate()
        return Response(
            metrics_selectors.ranking(user=request.user, month=month, group=params.get("group", ""))  # type: ignore[arg-type]
        )


class MetricsTrendApi(APIView):
    """GET ?group=streets&metric=composite&months=12&end=YYYY-MM[&unit=code] → 走势 per unit and for the group."""

    permission_classes = [HasRole]
    roles = STAFF_ROLES

    @extend_schema(
        summary="考核指标月度走势",
        description=(
            "One metric month by month (oldest first) for each unit of a group and for the group total. "
            "`months[i]` labels `group_values[i]` and `units[*].values[i]`; null = no data that month. "
            "Unit staff see only their own subtree."
        ),
        parameters=[
            OpenApiParameter(
                "group", str, required=True, enum=["departments", "districts", "streets", "utilities", "centre"]
            ),
            OpenApiParameter("metric", str, enum=list(metrics_selectors.RATE_KEYS), default="composite"),
            OpenApiParameter("months", int, description="1–36, default 12"),
            OpenApiParameter("end", str, description="YYYY-MM, the last month shown (default: this month)"),
            OpenApiParameter("unit", str, description="one unit's code (default: every unit of the group)"),
        ],
        responses={200: TrendOutput},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        end = month_parse(params["end"], field="end") if params.get("end") else timezone.localdate()
        try:
            months = int(params.get("months", "12"))
        except ValueError:
            raise InvalidInput("月数必须是整数", field="months", rule="integer") from None
        return Response(
            metrics_selectors.trends(
                user=request.user,  # type: ignore[arg-type]
                end=end,
                months=months,
                group=params.get("group", ""),
                metric=params.get("metric", "composite"),
                unit=params.get("unit") or None,
            )
        )
