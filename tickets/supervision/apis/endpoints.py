"""统一督办 endpoints: the supervisor's board and requests, 挂牌督办, manual 督办, pausing a clock."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response

from tickets.core.actors import Actor
from tickets.core.apis.assignments import AssignmentActionView
from tickets.core.apis.base import HasRole, StrictSerializer, reason_field
from tickets.core.apis.outputs import AssignmentOutput
from tickets.core.apis.tickets import TicketActionView
from tickets.core.models import Assignment, Ticket
from tickets.errors import NotFound
from tickets.org.models import Role, Unit
from tickets.sla.services import clock
from tickets.supervision import selectors as supervision_selectors
from tickets.supervision.apis.outputs import BoardRowOutput, PendingRequestOutput, SupervisionOutput
from tickets.supervision.services import supervision

SUPERVISOR_ROLES = (Role.SUPERVISOR, Role.ADMIN)
CLOCK_ROLES = (Role.UNIT_STAFF, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)
BOARD_ROLES = (Role.SUPERVISOR, Role.DISPATCHER, Role.ADMIN)


class BoardPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 200

    def get_limit(self, request: Request) -> int | None:
        # DRF reads limit=abc as "the default"; a bad value is a 400 (found by fuzzing).
        return _non_negative(request, self.limit_query_param, self.default_limit, low=1, high=self.max_limit)

    def get_offset(self, request: Request) -> int:
        return _non_negative(request, self.offset_query_param, 0, low=0, high=10**9)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        params: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        bounds = {self.limit_query_param: (1, self.max_limit), self.offset_query_param: (0, 10**9)}
        for param in params:
            low, high = bounds[param["name"]]
            param["schema"].update({"minimum": low, "maximum": high})
        return params


def _non_negative(request: Request, name: str, default: int, *, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise serializers.ValidationError({name: [f"必须是 {low} 到 {high} 的整数"]})
    return int(raw)


class SupervisionBoardApi(generics.ListAPIView):  # type: ignore[type-arg]
    """督办看板: overdue, due today, due tomorrow, problem tickets; by unit (and its subtree) or unit group."""

    permission_classes = [HasRole]
    roles = BOARD_ROLES
    serializer_class = BoardRowOutput
    pagination_class = BoardPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("bucket", str, enum=list(supervision_selectors.BUCKETS)),
            OpenApiParameter("unit", int, required=False),
            OpenApiParameter("group", str, required=False, enum=list(supervision_selectors.GROUPS)),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        params = self.request.query_params
        unit = None
        if params.get("unit"):
            try:
                unit = Unit.objects.get(pk=int(params["unit"]))
            except (ValueError, Unit.DoesNotExist):
                raise NotFound("单位不存在") from None
        return supervision_selectors.supervision_board(
            bucket=params.get("bucket", "overdue"), unit=unit, group=params.get("group") or None
        )


class PendingRequestsApi(generics.ListAPIView):  # type: ignore[type-arg]
    """待审核的退回和延期申请，最早的在前。"""

    permission_classes = [HasRole]
    roles = BOARD_ROLES
    serializer_class = PendingRequestOutput
    pagination_class = BoardPagination

    @extend_schema(parameters=[OpenApiParameter("kind", str, required=False, enum=["return", "extension"])])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        return supervision_selectors.pending_requests(kind=self.request.query_params.get("kind") or None)


class TicketFlagApi(TicketActionView):
    summary = "挂牌督办"
    roles = SUPERVISOR_ROLES

    class InputSerializer(StrictSerializer):
        reason = reason_field(required=True)

    def perform(self, request: Request, actor: Actor, data: dict[str, Any], ticket_id: int) -> Ticket:
        return supervision.ticket_flag(ticket=self.ticket(request, ticket_id), actor=actor, reason=data["reason"])


class TicketUnflagApi(TicketActionView):
    summary = "撤销挂牌督办"
    roles = SUPERVISOR_ROLES

    class InputSerializer(StrictSerializer):
        reason = reason_field(required=True)

    def perform(self, request: Request, actor: Actor, data: dict[str, Any], ticket_id: int) -> Ticket:
        return supervision.ticket_unflag(ticket=self.ticket(request, ticket_id), actor=actor, reason=data["reason"])


class TicketSuperviseApi(TicketActionView):
    summary = "人工督办（附督办意见）"
    roles = SUPERVISOR_ROLES
    output = SupervisionOutput  # type: ignore[assignment]  # answers the notices issued, not the ticket

    class InputSerializer(StrictSerializer):
        note = reason_field(required=True)

    def handle_action(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.InputSerializer(data=request.data if request.data is not None else {})
        serializer.is_valid(raise_exception=True)
        ticket = self.ticket(request, kwargs["ticket_id"])
        issued = supervision.ticket_supervise(ticket=ticket, actor=Actor.of(request.user), **serializer.validated_data)  # type: ignore[arg-type]
        return Response(SupervisionOutput(issued, many=True, context={"request": request}).data)

    def perform(self, request: Request, actor: Actor, data: dict[str, Any], ticket_id: int) -> Any:
        raise NotImplementedError  # handle_action answers the list of notices


class AssignmentPauseClockApi(AssignmentActionView):
    summary = "暂停计时（等待群众补充材料）"
    roles = CLOCK_ROLES  # type: ignore[assignment]  # wider than the unit-only base
    output = AssignmentOutput

    class InputSerializer(StrictSerializer):
        reason = reason_field(required=True)

    def perform(self, request: Request, actor: Actor, data: dict[str, Any], assignment_id: int) -> Assignment:
        return clock.assignment_pause_clock(
            assignment=self.assignment(request, assignment_id), actor=actor, reason=data["reason"]
        )


class AssignmentResumeClockApi(AssignmentActionView):
    summary = "恢复计时（时限顺延暂停的时长）"
    roles = CLOCK_ROLES  # type: ignore[assignment]  # wider than the unit-only base
    output = AssignmentOutput

    class InputSerializer(StrictSerializer):
        reason = reason_field()

    def perform(self, request: Request, actor: Actor, data: dict[str, Any], assignment_id: int) -> Assignment:
        return clock.assignment_resume_clock(
            assignment=self.assignment(request, assignment_id), actor=actor, reason=data["reason"]
        )


__all__ = [
    "AssignmentPauseClockApi",
    "AssignmentResumeClockApi",
    "PendingRequestsApi",
    "SupervisionBoardApi",
    "TicketFlagApi",
    "TicketSuperviseApi",
    "TicketUnflagApi",
]
