"""GET /api/events/?after=<cursor>&limit=&ticket=: what a live client missed."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_app.readers import reader_for
from channels_app.selectors import MAX_LIMIT, live_events_after
from tickets.core import selectors
from tickets.core.apis.base import STAFF_ROLES, HasRole, staff_user
from tickets.core.services import access
from tickets.errors import NotPermitted


class EventsQuery(serializers.Serializer):  # type: ignore[type-arg]
    after = serializers.IntegerField(
        min_value=0,
        default=0,
        help_text="last cursor received; the events of the 60 s before it come again (drop seen cursors)",
    )
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=100, help_text=f"at most {MAX_LIMIT}")
    ticket = serializers.IntegerField(min_value=1, required=False, help_text="one watched ticket: all its live events")


class EventsOutput(serializers.Serializer):  # type: ignore[type-arg]
    events = serializers.ListField(
        child=serializers.DictField(),
        help_text=(
            "typed payloads, oldest first: those after `after`, and also those at or before it written "
            "up to 60 s before it (a slower transaction can commit an earlier cursor later); "
            "drop any cursor you have already handled"
        ),
    )
    cursor = serializers.IntegerField(help_text="pass as `after` next time")
    has_more = serializers.BooleanField()


class LiveEventListApi(APIView):
    """Catch up after a dropped socket: the same payloads, filtered for the reader like the socket.

    Cursors are event ids, drawn when an event is written but visible only once its transaction
    commits, so ids can become visible out of order. The answer therefore repeats the reader's
    events from the 60 s before the cursor's own event; a client keeps the cursors it has handled
    and drops repeats (static/js/live.js does).

    With `ticket` the answer is that ticket's events, which carry the citizen's name and address:
    it is recorded in TicketAccessLog like the ticket's detail (`access.ticket_view_record`).
    """

    permission_classes = [HasRole]
    roles = STAFF_ROLES

    @extend_schema(
        parameters=[EventsQuery],
        responses={200: EventsOutput},
    )
    def get(self, request: Request) -> Response:
        query = EventsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        user = staff_user(request)
        reader = reader_for(user)
        if reader is None:
            raise NotPermitted("当前账号没有实时消息", rule="role")
        ticket_id = query.validated_data.get("ticket")
        found = live_events_after(
            user, reader, after=query.validated_data["after"], limit=query.validated_data["limit"], ticket_id=ticket_id
        )
        if ticket_id is not None:  # found: the ticket is one this user may see
            access.ticket_view_record(ticket=selectors.ticket_get(user, ticket_id), user=user, via="api.events")
        return Response({"events": found.events, "cursor": found.cursor, "has_more": found.has_more})
