"""Endpoints for 并单 candidates, 重复来电率 and 热点."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tickets.core import selectors
from tickets.core.apis.base import CENTRE_ROLES, ActionView, HasRole, StrictSerializer, TextField
from tickets.core.apis.outputs import CategoryRef, UnitRef
from tickets.core.dates import day_parse
from tickets.core.text import normalise_phone
from tickets.duplicates.models import HotspotAlert
from tickets.duplicates.services import duplicates, hotspots
from tickets.errors import InvalidInput
from tickets.metrics import selectors as metrics_selectors
from tickets.org.models import Role, Unit
from tickets.sla.services import calendar

DUPLICATE_ROLES = (Role.OPERATOR, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)
REVIEW_ROLES = (Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)


# --- 并单 candidates -------------------------------------------------------------------------


class CandidateOutput(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField(source="ticket.pk")
    number = serializers.CharField(source="ticket.number")
    title = serializers.CharField(source="ticket.title")
    state = serializers.CharField(source="ticket.state")
    state_label = serializers.CharField(source="ticket.get_state_display")
    created_at = serializers.DateTimeField(source="ticket.created_at")
    jurisdiction = UnitRef(source="ticket.jurisdiction", allow_null=True)
    category = CategoryRef(source="ticket.category", allow_null=True)
    merged_into = serializers.CharField(source="ticket.master_number", allow_null=True, default=None)
    score = serializers.FloatField()
    similarity = serializers.FloatField()
    same_caller = serializers.BooleanField()
    same_place = serializers.CharField()
    days_ago = serializers.FloatField()
    reasons = serializers.ListField(child=serializers.CharField())


class TicketDuplicatesApi(APIView):
    """GET: likely duplicates of a ticket (same caller in 30 days; similar text in the same place)."""

    permission_classes = [HasRole]
    roles = DUPLICATE_ROLES

    @extend_schema(responses={200: CandidateOutput(many=True)})
    def get(self, request: Request, ticket_id: int) -> Response:
        ticket = selectors.ticket_get(request.user, ticket_id)  # type: ignore[arg-type]
        return Response(CandidateOutput(duplicates.ticket_duplicates(ticket=ticket), many=True).data)


class PreviewInput(StrictSerializer):
    text = TextField(max_length=settings.TICKET_TEXT_MAX, min_length=2)
    phone = TextField(max_length=32, required=False, allow_blank=True, default="")
    address = TextField(max_length=settings.TICKET_ADDRESS_MAX, required=False, allow_blank=True, default="")
    jurisdiction = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.all(), required=False, allow_null=True, default=None
    )


class DuplicatePreviewApi(APIView):
    """POST while the operator types: candidates for a ticket not yet saved (nothing is written)."""

    permission_classes = [HasRole]
    roles = DUPLICATE_ROLES

    @extend_schema(request=PreviewInput, responses={200: CandidateOutput(many=True)}, summary="并单预查")
    def post(self, request: Request) -> Response:
        data = PreviewInput(data=request.data if request.data is not None else {})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        phone = normalise_phone(values["phone"]) if values["phone"] else ""
        found = duplicates.duplicate_candidates(
            text=values["text"], phone=phone, address=values["address"], jurisdiction=values["jurisdiction"]
        )
        return Response(CandidateOutput(found, many=True).data)


class LinkOutput(serializers.Serializer):  # type: ignore[type-arg]
    ticket = serializers.CharField(source="ticket.number")
    earlier = serializers.CharField(source="earlier.number")
    kind = serializers.CharField()
    same_caller = serializers.BooleanField()
    days_apart = serializers.FloatField()


class TicketDuplicateConfirmApi(ActionView):
    summary = "确认重复（不并单）：计入重复来电率"
    roles = DUPLICATE_ROLES
    output = LinkOutput

    class InputSerializer(StrictSerializer):
        other = serializers.IntegerField(min_value=1)

    def perform(self, request: Request, actor: Any, data: dict[str, Any], ticket_id: int) -> Any:
        ticket = selectors.ticket_get(request.user, ticket_id)  # type: ignore[arg-type]
        other = selectors.ticket_get(request.user, data["other"])  # type: ignore[arg-type]
        return duplicates.duplicate_confirm(ticket=ticket, other=other, actor=actor)


def _day(value: str | None, field: str) -> date | None:
    return None if value is None else day_parse(value, field=field)


def _period(request: Request, default_days: int) -> tuple[date, date]:
    end = _day(request.query_params.get("end"), "end") or timezone.localdate()
    start = _day(request.query_params.get("start"), "start") or end - timedelta(days=default_days - 1)
    if start > end:
        raise InvalidInput("开始日期不能晚于结束日期", field="start", rule="date_order")
    if (end - start).days > 366:
        raise InvalidInput("统计区间最长一年", field="start", rule="period_max")
    return start, end


class RepeatCallRateOutput(serializers.Serializer):  # type: ignore[type-arg]
    start = serializers.DateField()
    end = serializers.DateField()
    repeats = serializers.IntegerField()
    tickets = serializers.IntegerField()
    rate = serializers.FloatField()


class NamedCount(serializers.Serializer):  # type: ignore[type-arg]
    name = serializers.CharField()
    count = serializers.IntegerField()


class TicketSample(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    number = serializers.CharField()
    title = serializers.CharField()
    created_at = serializers.DateTimeField()


class HotspotOutput(serializers.Serializer):  # type: ignore[type-arg]
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # declared field; stubs see Field.label
    place = serializers.CharField()
    keywords = serializers.ListField(child=serializers.CharField())
    size = serializers.IntegerField()
    previous = serializers.IntegerField()
    trend = serializers.FloatField(allow_null=True)
    categories = NamedCount(many=True)
    places = NamedCount(many=True)
    samples = TicketSample(many=True)


class HotspotListOutput(serializers.Serializer):  # type: ignore[type-arg]
    start = serializers.DateField()
    end = serializers.DateField()
    hotspots = HotspotOutput(many=True)


class HotspotAlertOutput(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    day = serializers.DateField()
    label = serializers.CharField()  # type: ignore[assignment]  # declared field; stubs see Field.label
    count = serializers.IntegerField()
    baseline_per_day = serializers.FloatField()
    growth = serializers.FloatField()
    representative = TicketSample()
    tickets = serializers.ListField(child=serializers.IntegerField())


class RepeatCallRateApi(APIView):
    """GET ?start=&end= (local days, inclusive): 重复来电率."""

    permission_classes = [HasRole]
    roles = CENTRE_ROLES

    @extend_schema(
        parameters=[OpenApiParameter("start", OpenApiTypes.DATE), OpenApiParameter("end", OpenApiTypes.DATE)],
        responses={200: RepeatCallRateOutput},
    )
    def get(self, request: Request) -> Response:
        start, end = _period(request, 30)
        return Response({"start": start, "end": end, **metrics_selectors.repeat_call_rate(start=start, end=end)})


# --- 热点 ---------------------------------------------------------------------------------


def _sample(ticket: Any) -> dict[str, Any]:
    return {"id": ticket.pk, "number": ticket.number, "title": ticket.title, "created_at": ticket.created_at}


class HotspotListApi(APIView):
    """GET ?start=&end=&top=: hot spots of a period (local days), with the trend vs the previous equal period."""

    permission_classes = [HasRole]
    roles = CENTRE_ROLES

    @extend_schema(
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE, description="YYYY-MM-DD"),
            OpenApiParameter("end", OpenApiTypes.DATE, description="YYYY-MM-DD（含）"),
            OpenApiParameter("top", int),
        ],
        responses={200: HotspotListOutput},
    )
    def get(self, request: Request) -> Response:
        start, end = _period(request, 7)
        try:
            top = max(1, min(int(request.query_params.get("top", 10)), 50))
        except ValueError:
            raise InvalidInput("top 必须是整数", field="top", rule="int") from None
        since, until = calendar.local_day_bounds(start, end)
        spots = hotspots.hotspots_for_period(start=since, end=until, top=top)
        return Response(
            {
                "start": start,
                "end": end,
                "hotspots": [
                    {
                        **s.summary(),
                        "categories": [{"name": n, "count": c} for n, c in s.categories],
                        "places": [{"name": n, "count": c} for n, c in s.places],
                        "samples": [_sample(t) for t in s.samples],
                    }
                    for s in spots
                ],
            }
        )


class HotspotAlertListApi(APIView):
    permission_classes = [HasRole]
    roles = CENTRE_ROLES

    @extend_schema(responses={200: HotspotAlertOutput(many=True)})
    def get(self, request: Request) -> Response:
        alerts = HotspotAlert.objects.select_related("representative").order_by("-id")[:50]
        return Response(
            [
                {
                    "id": a.pk,
                    "day": a.day,
                    "label": a.label,
                    "count": a.current_count,
                    "baseline_per_day": a.baseline_per_day,
                    "growth": a.growth,
                    "representative": _sample(a.representative),
                    "tickets": a.ticket_ids,
                }
                for a in alerts
            ]
        )
