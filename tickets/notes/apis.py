"""GET/POST /api/tickets/<id>/notes/: the internal notes of a ticket (staff who may see it)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tickets.core import privacy, selectors
from tickets.core.actors import Actor
from tickets.core.apis.base import STAFF_ROLES, HasRole, ModelOutput, StrictSerializer, TextField, staff_user
from tickets.core.models import Ticket
from tickets.core.services import access
from tickets.notes import selectors as note_selectors
from tickets.notes import services
from tickets.notes.models import TicketNote


class NoteOutput(ModelOutput):
    """A note as its reader may read it: the text through the privacy rule (a unit reads the citizen's
    number masked, nothing of a 保密/匿名 citizen and no ID number), as the ticket page shows it.
    Context: `ticket` and `reader`."""

    text = serializers.SerializerMethodField()
    author = serializers.SerializerMethodField()
    author_unit = serializers.CharField(source="author_unit.name", default=None, read_only=True)

    class Meta:
        model = TicketNote
        fields = ["id", "text", "author", "author_unit", "created_at"]

    def get_text(self, note: TicketNote) -> str:
        return privacy.citizen_text(note.text, self.context["ticket"], self.context["reader"])

    def get_author(self, note: TicketNote) -> str:
        user = note.author
        return f"{user.last_name}{user.first_name}".strip() or user.get_username()


class TicketNotesApi(APIView):
    """内部备注 of one ticket: read by, and written by, the centre and the units that see the ticket;
    never part of any citizen-facing output."""

    permission_classes = [HasRole]
    roles = STAFF_ROLES

    class InputSerializer(StrictSerializer):
        text = TextField(max_length=settings.REASON_MAX)

    @extend_schema(responses={200: NoteOutput(many=True)}, summary="内部备注列表")
    def get(self, request: Request, ticket_id: int) -> Response:
        user = staff_user(request)
        ticket = selectors.ticket_get(user, ticket_id)
        notes = NoteOutput(note_selectors.ticket_notes(ticket), many=True, context=_read_as(ticket, user)).data
        access.ticket_view_record(ticket=ticket, user=user, via="api.notes")
        return Response(notes)

    @extend_schema(request=InputSerializer, responses={201: NoteOutput}, summary="添加内部备注")
    def post(self, request: Request, ticket_id: int) -> Response:
        user = staff_user(request)
        # The body is parsed first, as every action endpoint does (a hostile body is a 400 whatever the
        # ticket), then the reader's scope (another unit's ticket is a 404), then the fields.
        body = request.data if request.data is not None else {}
        ticket = selectors.ticket_get(user, ticket_id)
        serializer = self.InputSerializer(data=body)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = serializer.validated_data
        note = services.ticket_note_add(ticket=ticket, actor=Actor.of(user), text=data["text"])
        return Response(NoteOutput(note, context=_read_as(ticket, user)).data, status=201)


def _read_as(ticket: Ticket, reader: Any) -> dict[str, Any]:
    return {"ticket": ticket, "reader": reader}
