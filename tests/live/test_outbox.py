"""Redis down: writes still succeed, and the events reach sockets once the layer is back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings as django_settings
from django.utils import timezone

from channels_app.broadcast import outbox_flush
from tests.live.conftest import drain, open_feed
from tests.live.test_feed_filtering import _new_ticket
from tickets.core.models import Ticket
from tickets.live.models import LiveOutbox

pytestmark = pytest.mark.django_db(transaction=True)

DEAD_REDIS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [{"address": "redis://127.0.0.1:1/0", "socket_connect_timeout": 1}]},
    }
}


def test_a_write_succeeds_while_redis_is_down_and_is_pushed_when_it_returns(
    settings: Any, token: Callable[[str], str]
) -> None:
    working = django_settings.CHANNEL_LAYERS
    key = token("supervisor1")
    settings.CHANNEL_LAYERS = DEAD_REDIS

    ticket = _new_ticket()  # the on_commit push fails; the write must not

    assert Ticket.objects.filter(pk=ticket.pk).exists()
    pending = list(LiveOutbox.objects.order_by("event_id"))
    assert [row.event.action for row in pending] == ["created", "classified", "await_dispatch"]
    assert all(row.attempts == 1 and "ConnectionError" in row.last_error for row in pending)

    settings.CHANNEL_LAYERS = working  # Redis is back

    async def go() -> tuple[int, int, list[dict[str, Any]]]:
        sock = await open_feed(key)
        too_fresh = await sync_to_async(outbox_flush)()  # rows younger than RETRY_AFTER wait
        sent = await sync_to_async(outbox_flush)(retry_after=timedelta(0))
        got = await drain(sock)
        await sock.disconnect()
        return too_fresh, sent, got

    too_fresh, sent, got = async_to_sync(go)()
    assert too_fresh == 0
    assert sent == 3
    assert [(m["type"], m["ticket"]["id"]) for m in got] == [("ticket.created", ticket.pk)]
    assert not LiveOutbox.objects.exists()


def test_a_successful_push_leaves_nothing_in_the_outbox(city: object) -> None:
    _new_ticket()
    assert not LiveOutbox.objects.exists()


def test_pushes_older_than_a_day_are_dropped_not_replayed(settings: Any, city: object) -> None:
    settings.CHANNEL_LAYERS = DEAD_REDIS
    _new_ticket()
    assert LiveOutbox.objects.count() == 3
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert outbox_flush(retry_after=timedelta(0)) == 0
    assert not LiveOutbox.objects.exists()


def test_a_push_that_cannot_keep_its_outbox_row_still_leaves_the_commit_standing(
    settings: Any, caplog: pytest.LogCaptureFixture, city: object
) -> None:
    """Redis down and then the outbox write failing too (as when PostgreSQL goes away just after the
    commit): the hook logs and returns, so the request that committed is answered as a success. It
    used to reach Django's robust-hook logger, which failed on the hook's missing __qualname__ and
    turned a stored ticket into an HTTP 500 (found by the PostgreSQL restart drill)."""
    from django.db import connection, transaction

    from channels_app.broadcast import _PENDING_ATTR

    settings.CHANNEL_LAYERS = DEAD_REDIS
    with caplog.at_level("WARNING", logger="channels_app"), transaction.atomic():
        ticket = _new_ticket()
        getattr(connection, _PENDING_ATTR).event_ids.append(2**62)  # an outbox row that cannot be written

    assert Ticket.objects.filter(pk=ticket.pk).exists()
    assert not LiveOutbox.objects.exists()
    assert any("lost after commit" in r.getMessage() for r in caplog.records), caplog.text
