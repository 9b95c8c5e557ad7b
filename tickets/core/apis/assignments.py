"""Assignment endpoints: a unit's inbox and its operations; the centre's return/extension rulings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import generics, serializers
from rest_framework.request import Request

from tickets.core import selectors
from tickets.core.actors import Actor
from tickets.core.apis.base import (
    STAFF_ROLES,
    ActionView,
    HasRole,
    IdCursorPagination,
    MomentField,
    StrictSerializer,
    TextField,
    reason_field,
)
from tickets.core.apis.outputs import AssignmentOutput
from tickets.core.models import Assignment
from tickets.core.services import workflow
from tickets.core.states import AssignmentState
from tickets.org.models import Role, Unit

UNIT_ROLES = (Role.UNIT_STAFF,)
RULING_ROLES = (Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)


class DueFirstPagination(IdCursorPagination):
    ordering = ("reply_due_at", "id")


class AssignmentListApi(generics.ListAPIView):  # type: ignore[type-arg]
    """The inbox: open assignments of the reader's unit (centre: all), nearest deadline first."""

    permission_classes = [HasRole]
    roles = STAFF_ROLES
    serializer_class = AssignmentOutput
    pagination_class = DueFirstPagination

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no signed-in user
            return Assignment.objects.none()
        state = self.request.query_params.get("state") or None
        if state is not None and state not in AssignmentState.values:
            raise serializers.ValidationError({"state": ["不是有效的派单状态"]})
        return selectors.assignment_inbox(self.request.user, state=state)  # type: ignore[arg-type]


class AssignmentActionView(ActionView):
    output = AssignmentOutput
    roles: tuple[str, ...] = UNIT_ROLES

    def assignment(self, request: Request, assignment_id: int) -> Assignment:
        return selectors.assignment_get(request.user, assignment_id)  # type: ignore[arg-type]


class AssignmentSignApi(AssignmentActionView):
    summary = "签收"

    def perform(self, request: Request, actor: Actor, data: dict[str, Any], assignment_id: int) -> Assignment:
        return workflow.assignment_sign(assignment=self.assignment(request, assignment_id), actor=actor)


class AssignmentReplyApi(AssignmentActionView):
    summary = "办复"

    class InputSerializer(StrictSerializer):
        text = TextField(max_length=settings.REPLY_MAX)

    def perform(self, request: Request, actor: Actor, data: dict[str, Any], assignment_id: int) -> Assignment:
        return workflow.assignment_reply(
            assignment=self.assignment(request, assignment_id), actor=actor, text=data["text"]
        )


class AssignmentRedispatchApi(AssignmentActionView):
    summary = "下派给下级单位（本单位仍负责）"

    class InputSerializer(StrictSerializer):
        child_unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.filter(is_active=True))
        note = reason_field()

    def perform(self, request: Request, actor: Actor, data: dict[str, Any], assignment_id: int) -> Assignment:
        return workflow.assignment_redispatch(assignment=self.assignment(request, assignment_id), actor=actor, **data)


class AssignmentRequestReturnApi(AssignmentActionView):
    summary = "申请退回（须写明理由和依据）"

    class InputSerializer(StrictSerializer):
        reason = reason_field(required=True)
        legal_basis = TextField(max_length=workflow.LEGAL_BASIS_MAX)

    def perform(self, request: Request, actor: Actor, data: dict[str, Any], assignment_id: int) -> Assignment:
        return workflow.assignment_request_return(
            assignment=self.assignment(request, assignment_id), actor=actor, **data
        )


class AssignmentDecideReturnApi(AssignmentActionView):
    summary = "审核退回申请：同意（可直接改派）或驳回"
    roles = RULING_ROLES

    class InputSerializer(StrictSerializer):
        approve = serializers.BooleanField()
        reason = reason_field()
        redispatch_to = serializers.PrimaryKeyRelatedField(
            queryset=Unit.objects.filter(is_active=True), required=False, allow_null=True, default=None
        )

    def perform(self, request: Request, actor: Actor, data: dict[str, Any], assignment_id: int) -> Assignment:
        return workflow.assignment_decide_return(
            assignment=self.assignment(request, assignment_id), actor=actor, **data
        )


class AssignmentRequestExtensionApi(AssignmentActionView):
    summary = "申请延期（限一次，须在时限前提出）"

    class InputSerializer(StrictSerializer):
        until = MomentField()
        reason = reason_field(required=True)

    def perform(self, request: Request, actor: Actor, data: dict[str, Any], assignment_id: int) -> Assignment:
        return workflow.assignment_request_extension(
            assignment=self.assignment(request, assignment_id), actor=actor, **data
        )


class AssignmentDecideExtensionApi(AssignmentActionView):
    summary = "审核延期申请"
    roles = RULING_ROLES

    class InputSerializer(StrictSerializer):
        approve = serializers.BooleanField()
        reason = reason_field()

    def perform(self, request: Request, actor: Actor, data: dict[str, Any], assignment_id: int) -> Assignment:
        return workflow.assignment_decide_extension(
            assignment=self.assignment(request, assignment_id), actor=actor, **data
        )
