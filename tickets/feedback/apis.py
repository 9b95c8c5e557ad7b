"""评价反馈 endpoints: an operator's 回访 queue and its record; the supervisor's 不满意 review queue."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import generics, serializers
from rest_framework.request import Request

from tickets.core import privacy
from tickets.core.actors import Actor
from tickets.core.apis.base import ActionView, HasRole, IdCursorPagination, ModelOutput, StrictSerializer, TextField
from tickets.core.apis.outputs import cut_texts, reader_of
from tickets.errors import NotFound
from tickets.feedback.models import Cause, Rating, RatingCallback, Satisfaction
from tickets.feedback.services import callbacks, review
from tickets.org.models import Role

CALLBACK_ROLES = (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)
REVIEW_ROLES = (Role.SUPERVISOR, Role.ADMIN)


class RatingOutput(ModelOutput):
    ticket_number = serializers.CharField(source="ticket.number", read_only=True)
    lead_unit = serializers.CharField(source="ticket.lead_unit.name", default="", read_only=True)
    satisfaction_label = serializers.CharField(source="get_satisfaction_display", read_only=True)
    cause_label = serializers.CharField(source="get_cause_display", read_only=True)
    rated_unit = serializers.CharField(source="unit.name", default="", read_only=True)

    class Meta:
        model = Rating
        fields = [
            "id",
            "ticket",
            "ticket_number",
            "lead_unit",
            "round",
            "satisfaction",
            "satisfaction_label",
            "solved",
            "contacted",
            "comment",
            "cause",
            "cause_label",
            "rated_unit",
            "channel",
            "review",
            "review_reason",
            "reviewed_at",
            "created_at",
        ]

    def to_representation(self, rating: Rating) -> dict[str, Any]:
        return cut_texts(super().to_representation(rating), ("comment", "review_reason"), rating.ticket, self.context)


class RatingCallbackOutput(ModelOutput):
    """Operators are centre staff: privacy.citizen_view gives them the citizen's phone to call back."""

    ticket_number = serializers.CharField(source="ticket.number", read_only=True)
    citizen_name = serializers.SerializerMethodField()
    citizen_phone = serializers.SerializerMethodField()
    operator = serializers.CharField(source="operator.username", read_only=True)
    rating = RatingOutput(read_only=True)

    class Meta:
        model = RatingCallback
        fields = [
            "id",
            "ticket",
            "ticket_number",
            "citizen_name",
            "citizen_phone",
            "round",
            "operator",
            "due_at",
            "status",
            "reached",
            "note",
            "rating",
            "done_at",
        ]

    def get_citizen_name(self, callback: RatingCallback) -> str:
        return privacy.citizen_view(callback.ticket, reader_of(self.context))["citizen_name"]

    def get_citizen_phone(self, callback: RatingCallback) -> str:
        return privacy.citizen_view(callback.ticket, reader_of(self.context))["citizen_phone"]


class DueFirst(IdCursorPagination):
    ordering = ("due_at", "id")


class OldestFirst(IdCursorPagination):
    ordering = "id"


class CallbackQueueApi(generics.ListAPIView):  # type: ignore[type-arg]
    """回访队列: the signed-in operator's open callbacks (supervisors: all), earliest first."""

    permission_classes = [HasRole]
    roles = CALLBACK_ROLES
    serializer_class = RatingCallbackOutput
    pagination_class = DueFirst

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return RatingCallback.objects.none()
        return callbacks.callback_queue(self.request.user)  # type: ignore[arg-type]


class CallbackRecordApi(ActionView):
    summary = "记录回访结果"
    roles = (Role.OPERATOR, Role.SUPERVISOR)
    output = RatingCallbackOutput

    class InputSerializer(StrictSerializer):
        reached = serializers.BooleanField()
        contacted = serializers.BooleanField(required=False, allow_null=True, default=None)
        solved = serializers.BooleanField(required=False, allow_null=True, default=None)
        satisfaction = serializers.ChoiceField(choices=Satisfaction.choices, required=False, default="")
        cause = serializers.ChoiceField(choices=Cause.choices, required=False, default="")
        comment = TextField(max_length=settings.REASON_MAX, required=False, default="", allow_blank=True)

    def perform(self, request: Request, actor: Actor, data: dict[str, Any], callback_id: int) -> RatingCallback:
        callback = callbacks.callback_get(request.user, callback_id)  # type: ignore[arg-type]
        return callbacks.callback_record(callback=callback, actor=actor, **data)


class DissatisfiedQueueApi(generics.ListAPIView):  # type: ignore[type-arg]
    """不满意审核队列: 不满意 ratings with a cause on the unit's side or not judged yet (未判定), oldest first."""

    permission_classes = [HasRole]
    roles = REVIEW_ROLES
    serializer_class = RatingOutput
    pagination_class = OldestFirst

    def get_queryset(self) -> Any:
        return review.dissatisfied_queue()


class RatingDecideApi(ActionView):
    summary = "不满意审核：重办或说明办结"
    roles = (Role.SUPERVISOR,)
    output = RatingOutput

    class InputSerializer(StrictSerializer):
        decision = serializers.ChoiceField(choices=[("reopen", "重办"), ("close", "说明办结")])
        reason = TextField(max_length=settings.REASON_MAX)
        # The same choices as elsewhere (one enum in the schema); the service refuses `undetermined`.
        cause = serializers.ChoiceField(
            choices=Cause.choices, required=False, default="", help_text="未判定的不满意必须在此判定为主观或客观"
        )

    def perform(self, request: Request, actor: Actor, data: dict[str, Any], rating_id: int) -> Rating:
        rating = Rating.objects.filter(pk=rating_id).first()
        if rating is None:
            raise NotFound("评价不存在", rule="rating")
        return review.rating_decide(rating=rating, actor=actor, **data)
