"""Ticket endpoints: create, list, detail, history and the centre's workflow operations."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tickets import selectors
from tickets.apis.base import (
    CENTRE_ROLES,
    STAFF_ROLES,
    ActionView,
    HasRole,
    IdCursorPagination,
    StrictSerializer,
    TextField,
    reason_field,
    staff_user,
)
from tickets.apis.filters import TicketFilter
from tickets.apis.outputs import EventOutput, TicketDetailOutput, TicketListOutput
from tickets.models import Category, Channel, Kind, Outcome, Role, Ticket, Unit, Urgency
from tickets.models.tickets import OUT_OF_SCOPE_OUTCOMES
from tickets.services import access, intake, workflow
from tickets.services.actors import Actor
from tickets.services.text import normalise_phone

INTAKE_ROLES = (Role.OPERATOR, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)
DISPATCH_ROLES = (Role.OPERATOR, Role.DISPATCHER, Role.ADMIN)
REVIEW_ROLES = (Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)


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


class TicketDetailApi(APIView):
    """A ticket with its assignments and full history. Viewing is recorded (domain.md §7)."""

    permission_classes = [HasRole]
    roles = STAFF_ROLES

    @extend_schema(responses={200: TicketDetailOutput})
    def get(self, request: Request, ticket_id: int) -> Response:
        user = staff_user(request)
        ticket = selectors.ticket_get(user, ticket_id)
        access.ticket_view_record(ticket=ticket, user=user, via="api.detail")
        return Response(TicketDetailOutput(ticket, context={"request": request}).data)


class TicketHistoryApi(APIView):
    """A ticket's history (it names the citizen's actions and quotes their words): recorded like a view."""

    permission_classes = [HasRole]
    roles = STAFF_ROLES

    @extend_schema(responses={200: EventOutput(many=True)})
    def get(self, request: Request, ticket_id: int) -> Response:
        user = staff_user(request)
        ticket = selectors.ticket_get(user, ticket_id)
        access.ticket_view_record(ticket=ticket, user=user, via="api.history")
        return Response(EventOutput(selectors.ticket_history(ticket), many=True, context={"request": request}).data)


class RevealPhoneOutput(serializers.Serializer):  # type: ignore[type-arg]
    citizen_phone = serializers.CharField()
    recorded = serializers.BooleanField()


class TicketRevealPhoneApi(APIView):
    """Shows the full number and records who saw it (`access.ticket_phone_reveal`: unit staff
    never on 保密/匿名 tickets)."""

    permission_classes = [HasRole]
    roles = STAFF_ROLES

    @extend_schema(request=None, responses={200: RevealPhoneOutput})
    def post(self, request: Request, ticket_id: int) -> Response:
        user = staff_user(request)
        ticket = selectors.ticket_get(user, ticket_id)
        phone = access.ticket_phone_reveal(ticket=ticket, user=user, via="api")
        return Response({"citizen_phone": phone, "recorded": True})


# --- workflow operations on a ticket ----------------------------------------------------------


class TicketActionView(ActionView):
    output = TicketDetailOutput

    def ticket(self, request: Request, ticket_id: int) -> Ticket:
        return selectors.ticket_get(request.user, ticket_id)  # type: ignore[arg-type]


class TicketDispatchApi(TicketActionView):
    summary = "派单：指定主办单位和协办单位"
    roles = DISPATCH_ROLES

    class InputSerializer(StrictSerializer):
        lead_unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all())
        assisting_units = serializers.PrimaryKeyRelatedField(
            queryset=Unit.objects.all(), many=True, required=False, default=list
        )
        category = serializers.PrimaryKeyRelatedField(
            queryset=Category.objects.all(), required=False, allow_null=True, default=None
        )
        note = reason_field()

    def perform(self, request: Request, actor: Actor, data: dict[str, Any], ticket_id: int) -> Ticket:
        return workflow.ticket_dispatch(ticket=self.ticket(request, ticket_id), actor=actor, **data)


class TicketReviewApi(TicketActionView):
    summary = "审核办复：通过（发起回访评价）或退回承办单位"
    roles = REVIEW_ROLES

    class InputSerializer(StrictSerializer):
        accept = serializers.BooleanField()
        reason = reason_field()

    def perform(self, request: Request, actor: Actor, data: dict[str, Any], ticket_id: int) -> Ticket:
        return workflow.ticket_review_reply(ticket=self.ticket(request, ticket_id), actor=actor, **data)


class TicketCloseApi(TicketActionView):
    summary = "办结"
    roles = CENTRE_ROLES

    class InputSerializer(StrictSerializer):
        reason = reason_field()

    def perform(self, request: Request, actor: Actor, data: dict[str, Any], ticket_id: int) -> Ticket:
        return workflow.ticket_close(ticket=self.ticket(request, ticket_id), actor=actor, reason=data["reason"])


class TicketReopenApi(TicketActionView):
    summary = "重办：退回主办单位重新办理"
    roles = REVIEW_ROLES

    class InputSerializer(StrictSerializer):
        reason = reason_field(required=True)

    def perform(self, request: Request, actor: Actor, data: dict[str, Any], ticket_id: int) -> Ticket:
        return workflow.ticket_reopen(ticket=self.ticket(request, ticket_id), actor=actor, reason=data["reason"])


class TicketMergeApi(TicketActionView):
    summary = "并单：并入主工单"
    roles = DISPATCH_ROLES

    class InputSerializer(StrictSerializer):
        master = serializers.PrimaryKeyRelatedField(queryset=Ticket.objects.all())
        reason = reason_field()

    def perform(self, request: Request, actor: Actor, data: dict[str, Any], ticket_id: int) -> Ticket:
        return workflow.ticket_merge(ticket=self.ticket(request, ticket_id), actor=actor, **data)


class TicketUnmergeApi(TicketActionView):
    summary = "取消并单"
    roles = DISPATCH_ROLES

    class InputSerializer(StrictSerializer):
        reason = reason_field()

    def perform(self, request: Request, actor: Actor, data: dict[str, Any], ticket_id: int) -> Ticket:
        return workflow.ticket_unmerge(ticket=self.ticket(request, ticket_id), actor=actor, reason=data["reason"])


class TicketAnswerDirectlyApi(TicketActionView):
    summary = "直接答复（知识库答复后办结）"
    roles = DISPATCH_ROLES

    class InputSerializer(StrictSerializer):
        answer = TextField(max_length=settings.REPLY_MAX)
        article_id = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)

    def perform(self, request: Request, actor: Actor, data: dict[str, Any], ticket_id: int) -> Ticket:
        if data.get("article_id"):  # 知识库答复: the article must be valid today, and its use is counted
            from tickets.services import kb

            return kb.ticket_answer_from_article(ticket=self.ticket(request, ticket_id), actor=actor, **data)
        return workflow.ticket_answer_directly(ticket=self.ticket(request, ticket_id), actor=actor, **data)


class TicketOutOfScopeApi(TicketActionView):
    summary = "不予派单：转110/119/120/122、告知途径、不予受理、恶意来电"
    roles = DISPATCH_ROLES

    class InputSerializer(StrictSerializer):
        outcome = serializers.ChoiceField(choices=[(o, Outcome(o).label) for o in sorted(OUT_OF_SCOPE_OUTCOMES)])
        reason = reason_field(required=True)

    def perform(self, request: Request, actor: Actor, data: dict[str, Any], ticket_id: int) -> Ticket:
        return workflow.ticket_mark_out_of_scope(ticket=self.ticket(request, ticket_id), actor=actor, **data)


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


class OldestFirstPagination(IdCursorPagination):
    ordering = "id"


class DispatchQueueApi(generics.ListAPIView):  # type: ignore[type-arg]
    """待派单 queue: tickets a dispatcher must decide, oldest first."""

    permission_classes = [HasRole]
    roles = CENTRE_ROLES
    serializer_class = TicketListOutput
    pagination_class = OldestFirstPagination

    def get_queryset(self) -> Any:
        return selectors.dispatch_queue(self.request.user)  # type: ignore[arg-type]
