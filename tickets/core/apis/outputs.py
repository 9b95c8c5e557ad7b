"""Output serializers. Everything of a citizen (contact fields, free text, the actor of an event)
passes through `tickets.core.privacy` for the reader's role."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import serializers

from tickets.core import privacy
from tickets.core.apis.base import ModelOutput
from tickets.core.models import Assignment, Ticket, TicketEvent
from tickets.core.selectors import ticket_assignments, ticket_history
from tickets.core.states import AssignmentState, TicketState
from tickets.org.models import Category, RoutingRule, Unit, User
from tickets.sla.services.clock import ticket_time_split
from tickets.supervision.selectors import ticket_supervisions


def reader_of(context: dict[str, Any]) -> User | None:
    """The signed-in reader of a serializer; None (no request) reads like an outsider."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return user if isinstance(user, User) else None


def cut_texts(data: dict[str, Any], keys: tuple[str, ...], ticket: Ticket, context: dict[str, Any]) -> dict[str, Any]:
    """The free-text fields of a representation, as the reader may read them (privacy.citizen_text)."""
    reader = reader_of(context)
    for key in keys:
        if isinstance(data.get(key), str):
            data[key] = privacy.citizen_text(data[key], ticket, reader)
    return data


class UnitRef(ModelOutput):
    class Meta:
        model = Unit
        fields = ["id", "code", "name", "kind"]


class CategoryRef(ModelOutput):
    class Meta:
        model = Category
        fields = ["id", "code", "name"]


class UnitOutput(ModelOutput):
    # A declared field that shares its name with Field.parent (the enclosing serializer) in the stubs.
    parent: serializers.PrimaryKeyRelatedField[Unit] = serializers.PrimaryKeyRelatedField(  # type: ignore[assignment]
        read_only=True, allow_null=True
    )

    class Meta:
        model = Unit
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "parent",
            "path",
            "aliases",
            "liaison_name",
            "liaison_phone",
            "is_active",
        ]


class CategoryOutput(ModelOutput):
    # A declared field that shares its name with Field.parent (the enclosing serializer) in the stubs.
    parent: serializers.PrimaryKeyRelatedField[Category] = serializers.PrimaryKeyRelatedField(  # type: ignore[assignment]
        read_only=True, allow_null=True
    )

    class Meta:
        model = Category
        fields = ["id", "code", "name", "parent", "path", "is_functional", "is_active"]


class RoutingRuleOutput(ModelOutput):
    category = CategoryRef(read_only=True, allow_null=True)
    jurisdiction = UnitRef(read_only=True, allow_null=True)
    lead_unit = UnitRef(read_only=True, allow_null=True)
    assisting_units = UnitRef(many=True, read_only=True)

    class Meta:
        model = RoutingRule
        fields = ["id", "category", "jurisdiction", "lead_unit", "assisting_units", "is_active"]


class TicketListOutput(ModelOutput):
    title = serializers.SerializerMethodField()
    state_label = serializers.SerializerMethodField()
    category = CategoryRef(read_only=True, allow_null=True)
    jurisdiction = UnitRef(read_only=True, allow_null=True)
    lead_unit = UnitRef(read_only=True, allow_null=True)
    overdue = serializers.SerializerMethodField()
    citizen_name = serializers.SerializerMethodField()
    citizen_phone = serializers.SerializerMethodField()
    phone_masked = serializers.SerializerMethodField()
    suggestions = serializers.SerializerMethodField(help_text="分类器建议（前 3 项），供派单员参考")

    class Meta:
        model = Ticket
        fields = [
            "id",
            "number",
            "channel",
            "kind",
            "urgency",
            "title",
            "state",
            "state_label",
            "category",
            "jurisdiction",
            "lead_unit",
            "due_at",
            "overdue",
            "is_problem",
            "is_flagged",
            "confidential",
            "anonymous",
            "citizen_name",
            "citizen_phone",
            "phone_masked",
            "suggestions",
            "route_state",
            "created_at",
        ]

    def _citizen(self, ticket: Ticket) -> dict[str, Any]:
        cache = self.context.setdefault("_citizen", {})
        if ticket.pk not in cache:
            cache[ticket.pk] = privacy.citizen_view(ticket, reader_of(self.context))
        return cache[ticket.pk]  # type: ignore[no-any-return]

    def get_title(self, ticket: Ticket) -> str:
        return privacy.citizen_text(ticket.title, ticket, reader_of(self.context))

    def get_suggestions(self, ticket: Ticket) -> list[dict[str, Any]]:
        return list((ticket.classification or {}).get("suggestions", []))[:3]

    def get_state_label(self, ticket: Ticket) -> str:
        return str(TicketState(ticket.state).label)

    def get_overdue(self, ticket: Ticket) -> bool:
        return bool(ticket.due_at and ticket.closed_at is None and ticket.due_at < timezone.now())

    def get_citizen_name(self, ticket: Ticket) -> str:
        return str(self._citizen(ticket)["citizen_name"])

    def get_citizen_phone(self, ticket: Ticket) -> str:
        return str(self._citizen(ticket)["citizen_phone"])

    def get_phone_masked(self, ticket: Ticket) -> bool:
        return bool(self._citizen(ticket)["phone_masked"])


class AssignmentOutput(ModelOutput):
    unit = UnitRef(read_only=True)
    state_label = serializers.SerializerMethodField()
    ticket_number = serializers.CharField(source="ticket.number", read_only=True)

    class Meta:
        model = Assignment
        fields = [
            "id",
            "ticket",
            "ticket_number",
            "unit",
            "role",
            "parent",
            "state",
            "state_label",
            "round",
            "dispatched_at",
            "sign_due_at",
            "reply_due_at",
            "signed_at",
            "replied_at",
            "ended_at",
            "reply_text",
            "return_reason",
            "return_legal_basis",
            "extension_until",
            "extension_reason",
            "sign_on_time",
            "reply_on_time",
            "calendar_gap_year",
            "note",
            # 统一督办 clocks
            "warn_at",
            "supervise_at",
            "notice_at",
            "sign_warned_at",
            "warned_at",
            "supervised_at",
            "noticed_at",
            "clock_paused_at",
            "paused_seconds",
        ]

    def get_state_label(self, assignment: Assignment) -> str:
        return str(AssignmentState(assignment.state).label)

    def to_representation(self, assignment: Assignment) -> dict[str, Any]:
        data = super().to_representation(assignment)
        return cut_texts(data, ASSIGNMENT_TEXTS, assignment.ticket, self.context)


ASSIGNMENT_TEXTS = ("reply_text", "return_reason", "return_legal_basis", "extension_reason", "note", "ticket_title")


class EventOutput(ModelOutput):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = TicketEvent
        fields = [
            "id",
            "action",
            "actor_kind",
            "actor",
            "assignment",
            "from_state",
            "to_state",
            "reason",
            "data",
            "created_at",
        ]

    def to_representation(self, event: TicketEvent) -> dict[str, Any]:
        data = super().to_representation(event)
        data["data"] = privacy.event_data(event.data, event.ticket, reader_of(self.context))
        return cut_texts(data, ("reason",), event.ticket, self.context)

    def get_actor(self, event: TicketEvent) -> str:
        return privacy.event_actor(event)


class TicketDetailOutput(TicketListOutput):
    text = serializers.SerializerMethodField()
    citizen_address = serializers.SerializerMethodField()
    classification = serializers.SerializerMethodField()
    merged_into: serializers.SlugRelatedField[Ticket] = serializers.SlugRelatedField(
        slug_field="number", read_only=True, allow_null=True
    )
    assignments = serializers.SerializerMethodField()
    history = serializers.SerializerMethodField()
    supervisions = serializers.SerializerMethodField()
    time_split = serializers.SerializerMethodField()

    class Meta(TicketListOutput.Meta):
        fields = [
            *TicketListOutput.Meta.fields,
            "text",
            "citizen_address",
            "classification",
            "outcome",
            "outcome_reason",
            "merged_into",
            "reopen_count",
            "units_passed",
            "closed_at",
            "assignments",
            "history",
            "supervisions",
            "time_split",
        ]

    def get_text(self, ticket: Ticket) -> str:
        return privacy.citizen_text(ticket.text, ticket, reader_of(self.context))

    def get_citizen_address(self, ticket: Ticket) -> str:
        return str(self._citizen(ticket)["citizen_address"])

    def get_classification(self, ticket: Ticket) -> dict[str, Any] | None:
        """The classifier's record (its terms are words of the text)."""
        found = privacy.citizen_value(ticket.classification, ticket, reader_of(self.context))
        return found if isinstance(found, dict) else None

    def to_representation(self, ticket: Ticket) -> dict[str, Any]:
        accepted = self._accepted(ticket)
        if accepted is None:
            return super().to_representation(ticket)  # type: ignore[no-any-return]
        return self._accepted_output(ticket, accepted)

    def _accepted_output(self, ticket: Ticket, history: list[TicketEvent]) -> dict[str, Any]:
        """This serializer's body for a ticket just accepted (waiting in the routing queue), without
        DRF's field machinery: every intake answers with it, and building the detail's ~60 fields
        for one object took ~2.3 ms of the accept's CPU (bench/intake/README.md). The rules are this
        class's own getters and the privacy module; only the plain columns are read here. It must
        equal `super().to_representation` for such a ticket: tests/intake/test_accept_answer.py
        compares the two for every reader role and citizen flag."""
        reader = reader_of(self.context)
        return {
            "id": ticket.pk,
            "number": ticket.number,
            "channel": ticket.channel,
            "kind": ticket.kind,
            "urgency": ticket.urgency,
            "title": self.get_title(ticket),
            "state": ticket.state,
            "state_label": self.get_state_label(ticket),
            "category": _ref(ticket.category, CategoryRef.Meta.fields),
            "jurisdiction": _ref(ticket.jurisdiction, UnitRef.Meta.fields),
            "lead_unit": _ref(ticket.lead_unit, UnitRef.Meta.fields),
            "due_at": _when(ticket.due_at),
            "overdue": self.get_overdue(ticket),
            "is_problem": ticket.is_problem,
            "is_flagged": ticket.is_flagged,
            "confidential": ticket.confidential,
            "anonymous": ticket.anonymous,
            "citizen_name": self.get_citizen_name(ticket),
            "citizen_phone": self.get_citizen_phone(ticket),
            "phone_masked": self.get_phone_masked(ticket),
            "suggestions": self.get_suggestions(ticket),
            "route_state": ticket.route_state,
            "created_at": _when(ticket.created_at),
            "text": self.get_text(ticket),
            "citizen_address": self.get_citizen_address(ticket),
            "classification": self.get_classification(ticket),
            "outcome": ticket.outcome,
            "outcome_reason": ticket.outcome_reason,
            "merged_into": None if ticket.merged_into_id is None else ticket.merged_into.number,  # type: ignore[union-attr]
            "reopen_count": ticket.reopen_count,
            "units_passed": ticket.units_passed,
            "closed_at": _when(ticket.closed_at),
            "assignments": [],
            "history": [_event_output(event, ticket, reader) for event in history],
            "supervisions": [],
            "time_split": self.get_time_split(ticket),
        }

    def _accepted(self, ticket: Ticket) -> list[TicketEvent] | None:
        """A ticket just accepted, waiting for routing: its one event is in hand and nothing else
        exists yet, so the 201 answer is built without reading anything back."""
        return getattr(ticket, "accepted_history", None) if ticket.route_state else None

    def get_assignments(self, ticket: Ticket) -> list[dict[str, Any]]:
        if self._accepted(ticket) is not None:
            return []
        return AssignmentOutput(ticket_assignments(ticket), many=True, context=self.context).data  # type: ignore[return-value]

    def get_history(self, ticket: Ticket) -> list[dict[str, Any]]:
        accepted = self._accepted(ticket)
        events = ticket_history(ticket) if accepted is None else accepted
        return EventOutput(events, many=True, context=self.context).data  # type: ignore[return-value]

    def get_supervisions(self, ticket: Ticket) -> list[dict[str, Any]]:
        # function-level: tickets.supervision.apis.outputs imports this module while loading (import cycle)
        from tickets.supervision.apis.outputs import SupervisionOutput

        if self._accepted(ticket) is not None:
            return []
        return SupervisionOutput(ticket_supervisions(ticket), many=True, context=self.context).data  # type: ignore[return-value]

    def get_time_split(self, ticket: Ticket) -> dict[str, int]:
        """Centre time and unit time, measured apart (domain.md §2.3)."""
        if self._accepted(ticket) is not None:  # with the centre since it was accepted, a moment ago
            return {"centre_seconds": 0, "unit_seconds": 0, "paused_seconds": 0}
        return ticket_time_split(ticket)


_WHEN = serializers.DateTimeField(read_only=True)  # DRF's own rendering of a moment (ISO, local zone)


def _when(value: Any) -> Any:
    return None if value is None else _WHEN.to_representation(value)


def _ref(row: Unit | Category | None, names: list[str]) -> dict[str, Any] | None:
    return None if row is None else {name: getattr(row, name) for name in names}


def _event_output(event: TicketEvent, ticket: Ticket, reader: User | None) -> dict[str, Any]:
    """`EventOutput` of one event, written out (see `TicketDetailOutput._accepted_output`)."""
    return {
        "id": event.pk,
        "action": event.action,
        "actor_kind": event.actor_kind,
        "actor": privacy.event_actor(event),
        "assignment": event.assignment_id,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "reason": privacy.citizen_text(event.reason, ticket, reader) if isinstance(event.reason, str) else event.reason,
        "data": privacy.event_data(event.data, ticket, reader),
        "created_at": _when(event.created_at),
    }
