"""The one broadcast helper: workflow services call `event_announce` after commit.

The centre group receives every event; each unit group on the path of an assigned unit
receives events of tickets assigned to it. Per-recipient filtering (masking, confidential
tickets) happens in the consumer, which knows who is listening.
"""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from channels_app.groups import CENTRE, ticket_group, unit_group

log = logging.getLogger("channels_app")


def event_announce(event_id: int) -> None:
    from tickets.models import Assignment, TicketEvent

    layer = get_channel_layer()
    if layer is None:
        return
    event = TicketEvent.objects.filter(pk=event_id).values("id", "ticket_id", "action").first()
    if event is None:
        return
    message = {
        "type": "feed.event",
        "event_id": event["id"],
        "ticket_id": event["ticket_id"],
        "action": event["action"],
    }
    paths = Assignment.objects.filter(ticket_id=event["ticket_id"]).values_list("unit_path", flat=True)
    units = {code for path in paths for code in path.strip("/").split("/") if code}
    send = async_to_sync(layer.group_send)
    for group in [CENTRE, ticket_group(event["ticket_id"]), *(unit_group(code) for code in sorted(units))]:
        send(group, message)
