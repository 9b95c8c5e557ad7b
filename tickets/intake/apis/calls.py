"""Operators' console: who is calling (caller history) and the 未接来电回拨 task list."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tickets.core import privacy
from tickets.core.actors import Actor
from tickets.core.apis.base import CENTRE_ROLES, ActionView, HasRole, ModelOutput, StrictSerializer, reason_field
from tickets.core.apis.outputs import reader_of
from tickets.errors import NotFound
from tickets.intake.models import CallbackOutcome, CallbackTask, MissedCallState
from tickets.intake.services import calls


class CallerHistoryApi(APIView):
    """GET /api/calls/{call_sid}/caller-history/ — earlier tickets from the caller, open ones first."""

    permission_classes = [HasRole]
    roles = CENTRE_ROLES

    @extend_schema(responses={200: None})
    def get(self, request: Request, call_sid: str) -> Response:
        call, tickets = calls.caller_history(user=request.user, call_sid=call_sid)  # type: ignore[arg-type]
        return Response(
            {
                "call_sid": call.call_sid,
                "phone": privacy.phone_for(call.phone, request.user),  # type: ignore[arg-type]
                "status": call.status,
                "after_hours": call.after_hours,
                "ticket": call.ticket.number if call.ticket else None,
                "history": calls.history_payload(tickets),
            }
        )


class CallbackOutput(ModelOutput):
    call_sid = serializers.CharField(source="call.call_sid")
    state_label = serializers.CharField(source="get_state_display")
    phone = serializers.SerializerMethodField()

    class Meta:
        model = CallbackTask
        fields = ["id", "call_sid", "phone", "reason", "state", "state_label", "created_at", "done_at", "note"]

    def get_phone(self, task: CallbackTask) -> str:
        return privacy.phone_for(task.phone, reader_of(self.context))


class CallbackListApi(APIView):
    """GET /api/callbacks/ — open 未接来电回拨 tasks, oldest first."""

    permission_classes = [HasRole]
    roles = CENTRE_ROLES

    @extend_schema(responses={200: CallbackOutput(many=True)})
    def get(self, request: Request) -> Response:
        state = request.query_params.get("state", MissedCallState.OPEN)
        qs = CallbackTask.objects.filter(state=state).select_related("call").order_by("id")[:200]
        return Response(CallbackOutput(qs, many=True, context={"request": request}).data)


class CallbackDoneApi(ActionView):
    summary = "回拨完成（或登记手工回拨结果）"
    roles = CENTRE_ROLES
    output = CallbackOutput

    class InputSerializer(StrictSerializer):
        note = reason_field()
        outcome = serializers.ChoiceField(
            choices=CallbackOutcome.choices,
            required=False,
            help_text="回拨结果（手工回拨时登记）：reached、wrong_number 办结任务；"
            "no_answer 记入任务，任务保留待再次回拨。不填则直接办结任务。",
        )

    def perform(  # type: ignore[override]
        self, request: Request, actor: Actor, data: dict[str, Any], task_id: int
    ) -> CallbackTask:
        task = CallbackTask.objects.filter(pk=task_id).first()
        if task is None:
            raise NotFound("回拨任务不存在")
        if "outcome" in data:
            return calls.callback_outcome_record(task=task, actor=actor, outcome=data["outcome"], note=data["note"])
        return calls.callback_done(task=task, actor=actor, note=data["note"])
