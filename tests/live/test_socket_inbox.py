"""A socket's inbox holds a surge's routing batches, and a socket that stops reading is closed to
catch up, never left open with a hole in its feed.

Before: the inbox held 200 events and dropped the rest with a log line. A routing batch of 100
tickets brings a supervisor 200 events in one channel-layer message (created and dispatched for
each), so a second batch arriving before the first was sent, or a batch of more than 100
(HOTLINE_ROUTING_BATCH), dropped events silently while the page still showed the feed as live.
"""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from rest_framework.test import APIClient

from channels_app.broadcast import MESSAGE_TYPE
from channels_app.consumers import CLOSE_CATCH_UP, INBOX
from tests.live.conftest import drain, open_feed
from tickets.accounts.services import api_token_issue
from tickets.core.models import TicketEvent
from tickets.intake.services import routing_batch
from tickets.org.models import User

pytestmark = pytest.mark.django_db(transaction=True)

TICKETS = 150


def _client(username: str) -> tuple[APIClient, str]:
    key = api_token_issue(user=User.objects.get(username=username))[0]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client, key


def _feed_after(client: APIClient, cursor: int) -> list[int]:
    """What the catch-up API gives this reader after `cursor`: the events its socket should send."""
    cursors: list[int] = []
    while True:
        page = client.get(f"/api/events/?after={cursor}").json()
        cursors += [event["cursor"] for event in page["events"] if event["cursor"] > cursor]
        cursor = page["cursor"]
        if not page["has_more"]:
            return sorted(set(cursors))


def test_a_supervisor_gets_every_event_of_a_routing_batch_of_150(
    city: object, demo_model: object, settings: Any
) -> None:
    settings.ROUTING_INLINE = False  # accepted here, routed in one batch below
    settings.ROUTING_WAKE_DELAY = 3600.0
    settings.ROUTING_BATCH = TICKETS
    operator, _ = _client("operator1")
    supervisor, key = _client("supervisor1")
    start = TicketEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0

    def accept() -> None:
        for n in range(TICKETS):
            text = f"东湖区阳光花园小区{n}栋电梯一个月坏了四次，物业只是简单重启，请督促物业维修。"
            body = {"text": text, "citizen_phone": f"139{n:08d}"}
            assert operator.post("/api/tickets/", body, format="json").status_code == 201

    async def go() -> list[dict[str, Any]]:
        feed = await open_feed(key)
        await sync_to_async(accept)()
        await sync_to_async(routing_batch.tickets_route_pending)()
        got = await drain(feed, quiet=1.0)
        await feed.disconnect()
        return got

    got = async_to_sync(go)()
    expected = _feed_after(supervisor, start)
    assert len(expected) >= 2 * TICKETS  # created and a routing decision for each ticket
    assert sorted(m["cursor"] for m in got) == expected


def test_a_socket_that_stops_reading_is_closed_to_catch_up(city: object) -> None:
    _, key = _client("supervisor1")

    async def go() -> dict[str, Any]:
        feed = await open_feed(key)
        envelopes = [
            {"payload": {"type": "noop", "cursor": None, "at": str(n)}, "unit_paths": []} for n in range(INBOX + 1)
        ]
        # One message with more events than the inbox holds, handed over before the socket's
        # sender can run: what a client that has stopped reading meets.
        await get_channel_layer().group_send(
            "role.supervisor", {"type": MESSAGE_TYPE, "group": "role.supervisor", "envelopes": envelopes}
        )
        closed = await feed.receive_output(timeout=5)
        await feed.wait(timeout=5)
        return closed

    assert async_to_sync(go)() == {"type": "websocket.close", "code": CLOSE_CATCH_UP}
