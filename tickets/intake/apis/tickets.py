"""Filing a ticket (POST /api/tickets/, which also lists them) and completing a draft."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from tickets.core import selectors
from tickets.core.actors import Actor
from tickets.core.apis.base import (
    STAFF_ROLES,
    HasRole,
    IdCursorPagination,
    StrictSerializer,
    TextField,
    staff_user,
)
from tickets.core.apis.filters import TicketFilter
from tickets.core.apis.outputs import TicketDetailOutput, TicketListOutput
from tickets.core.apis.tickets import DISPATCH_ROLES, INTAKE_ROLES, TicketActionView
from tickets.core.models import Channel, Kind, Ticket, Urgency
from tickets.core.services import workflow
from tickets.core.text import normalise_phone
from tickets.intake.services import intake
from tickets.org.models import Category, Unit


class PhoneField(TextField):
    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        try:
            return normalise_phone(value)
        except Exception as exc:  # InvalidInput: the message names the rule
            raise serializers.ValidationError(getattr(exc, "message", "电话号码无效")) from None


class TicketCreateInput(StrictSerializer):
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.PHONE)
    kind = serializers.ChoiceField(choices=Kind.choices, default=Kind.HELP)
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.NORMAL)
    title = TextField(max_length=settings.TICKET_TITLE_MAX, required=False, allow_blank=True, default="")
    text = TextField(max_length=settings.TICKET_TEXT_MAX, min_length=2)
    citizen_name = TextField(max_length=settings.TICKET_NAME_MAX, required=False, allow_blank=True, default="")
    citizen_phone = PhoneField(max_length=32, required=False, allow_blank=True, default="")
    citizen_address = TextField(max_length=settings.TICKET_ADDRESS_MAX, required=False, allow_blank=True, default="")
    confidential = serializers.BooleanField(default=False)
    anonymous = serializers.BooleanField(default=False)
    jurisdiction = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.filter(is_active=True), required=False, allow_null=True, default=None
    )
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.filter(is_active=True), required=False, allow_null=True, default=None
    )


class TicketListCreateApi(generics.ListAPIView):  # type: ignore[type-arg]
    """GET: tickets the reader may see (filters, keyset pages). POST: 受理 a new ticket."""

    permission_classes = [HasRole]
    roles = STAFF_ROLES
    serializer_class = TicketListOutput
    pagination_class = IdCursorPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = TicketFilter

    def get_queryset(self) -> Any:
        return selectors.ticket_pages(self.request.user)  # type: ignore[arg-type]

    @extend_schema(request=TicketCreateInput, responses={201: TicketDetailOutput})
    def post(self, request: Request) -> Response:
        user = staff_user(request)
        if not (user.is_superuser or user.role in INTAKE_ROLES):
            return Response({"detail": "当前角色不能受理工单", "rule": "role", "field": None, "errors": {}}, status=403)
        data = TicketCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        ticket = intake.ticket_create(actor=Actor.of(user), **data.validated_data)
        return Response(TicketDetailOutput(ticket, context={"request": request}).data, status=status.HTTP_201_CREATED)


class TicketCompleteApi(TicketActionView):
    summary = "补全电话/短信草稿并进入派单"
    roles = DISPATCH_ROLES

    class InputSerializer(StrictSerializer):
        kind = serializers.ChoiceField(choices=Kind.choices, required=False)
        urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
        title = TextField(max_length=settings.TICKET_TITLE_MAX, required=False, allow_blank=True)
        text = TextField(max_length=settings.TICKET_TEXT_MAX, required=False, min_length=2)
        citizen_name = TextField(max_length=settings.TICKET_NAME_MAX, required=False, allow_blank=True)
        citizen_address = TextField(max_length=settings.TICKET_ADDRESS_MAX, required=False, allow_blank=True)
        confidential = serializers.BooleanField(required=False)
        anonymous = serializers.BooleanField(required=False)
        jurisdiction = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all(), required=False, allow_null=True)
        category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all(), required=False, allow_null=True)

    def perform(self, request: Request, actor: Actor, data: dict[str, Any], ticket_id: int) -> Ticket:
        ticket = workflow.ticket_complete_draft(ticket=self.ticket(request, ticket_id), actor=actor, changes=data)
        return intake.ticket_route(ticket=ticket)
