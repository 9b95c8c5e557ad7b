"""Output serializers of 统一督办: notices, the supervisor's board, pending requests."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from tickets.core.apis.base import ModelOutput
from tickets.core.apis.outputs import AssignmentOutput, TicketListOutput, UnitRef, cut_texts
from tickets.core.models import Assignment, Ticket
from tickets.core.states import AssignmentState
from tickets.supervision.models import Supervision, SupervisionLevel


class SupervisionOutput(ModelOutput):
    unit = UnitRef(read_only=True)
    level_label = serializers.SerializerMethodField()
    issued_by = serializers.SerializerMethodField()
    recipients = serializers.SerializerMethodField()

    class Meta:
        model = Supervision
        fields = [
            "id",
            "level",
            "level_label",
            "clock",
            "assignment",
            "unit",
            "due_at",
            "text",
            "note",
            "recipients",
            "issued_by",
            "sms_status",
            "notified_at",
            "created_at",
        ]

    def to_representation(self, supervision: Supervision) -> dict[str, Any]:
        # A notice quotes the ticket's title, which may quote the citizen (privacy.citizen_text).
        return cut_texts(super().to_representation(supervision), ("text", "note"), supervision.ticket, self.context)

    def get_level_label(self, supervision: Supervision) -> str:
        return str(SupervisionLevel(supervision.level).label)

    def get_issued_by(self, supervision: Supervision) -> str:
        return supervision.issued_by.get_username() if supervision.issued_by else supervision.issued_by_label

    def get_recipients(self, supervision: Supervision) -> list[dict[str, str]]:
        request = self.context.get("request")
        if request is not None and request.user.is_centre:
            return list(supervision.recipients)
        # Units see who was told, not the numbers (the centre's contact list).
        return [{k: v for k, v in r.items() if k != "phone"} for r in supervision.recipients]


class BoardAssignmentOutput(ModelOutput):
    unit = UnitRef(read_only=True)
    state_label = serializers.SerializerMethodField()

    class Meta:
        model = Assignment
        fields = [
            "id",
            "unit",
            "role",
            "state",
            "state_label",
            "sign_due_at",
            "reply_due_at",
            "clock_paused_at",
            "warned_at",
            "supervised_at",
            "noticed_at",
            "calendar_gap_year",
        ]

    def get_state_label(self, assignment: Assignment) -> str:
        return str(AssignmentState(assignment.state).label)


class BoardRowOutput(TicketListOutput):
    board_due_at = serializers.DateTimeField(read_only=True)
    open_assignments = serializers.SerializerMethodField()

    class Meta(TicketListOutput.Meta):
        fields = [*TicketListOutput.Meta.fields, "board_due_at", "open_assignments"]

    def get_open_assignments(self, ticket: Ticket) -> list[dict[str, Any]]:
        return BoardAssignmentOutput(getattr(ticket, "open_assignments", []), many=True).data  # type: ignore[return-value]


class PendingRequestOutput(AssignmentOutput):
    ticket_title = serializers.CharField(source="ticket.title", read_only=True)
    ticket_is_flagged = serializers.BooleanField(source="ticket.is_flagged", read_only=True)

    class Meta(AssignmentOutput.Meta):
        fields = [*AssignmentOutput.Meta.fields, "ticket_title", "ticket_is_flagged"]
