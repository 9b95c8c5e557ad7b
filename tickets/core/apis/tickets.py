"""Ticket endpoints: create, list, detail, history and the centre's workflow operations."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tickets.core import selectors
from tickets.core.actors import Actor
from tickets.core.apis.base import (
    CENTRE_ROLES,
    STAFF_ROLES,
    ActionView,
    HasRole,
    IdCursorPagination,
    StrictSerializer,
    reason_field,
    staff_user,
)
from tickets.core.apis.outputs import EventOutput, TicketDetailOutput, TicketListOutput
from tickets.core.models import OUT_OF_SCOPE_OUTCOMES, Outcome, Ticket
from tickets.core.services import access, workflow
from tickets.org.models import Category, Role, Unit

INTAKE_ROLES = (Role.OPERATOR, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)
DISPATCH_ROLES = (Role.OPERATOR, Role.DISPATCHER, Role.ADMIN)
REVIEW_ROLES = (Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)


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


class TicketOutOfScopeApi(TicketActionView):
    summary = "不予派单：转110/119/120/122、告知途径、不予受理、恶意来电"
    roles = DISPATCH_ROLES

    class InputSerializer(StrictSerializer):
        outcome = serializers.ChoiceField(choices=[(o, Outcome(o).label) for o in sorted(OUT_OF_SCOPE_OUTCOMES)])
        reason = reason_field(required=True)

    def perform(self, request: Request, actor: Actor, data: dict[str, Any], ticket_id: int) -> Ticket:
        return workflow.ticket_mark_out_of_scope(ticket=self.ticket(request, ticket_id), actor=actor, **data)


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
