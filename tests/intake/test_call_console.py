"""来电弹屏 end to end: a Twilio call reaches the operators' live feed with the caller's history."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.test import Client

from channels_app.broadcast import layer_call
from tests.intake.conftest import payload, twilio_post
from tests.live.conftest import drain, open_feed
from tickets.accounts.services import api_token_issue
from tickets.core.actors import Actor
from tickets.intake.services import intake
from tickets.org.models import User

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _clean_layer() -> None:
    layer = get_channel_layer()
    if hasattr(layer, "flush"):
        layer_call(layer.flush)


def test_an_incoming_call_pops_up_on_the_operators_feed_with_the_callers_tickets(city: Any) -> None:
    operator = User.objects.get(username="operator1")
    earlier = intake.ticket_create(
        actor=Actor.of(operator), channel="phone", text="上次反映的噪音问题", citizen_phone="+8613800138000"
    )
    keys = {n: api_token_issue(user=User.objects.get(username=n))[0] for n in ["operator1", "donghu_staff"]}

    async def go() -> dict[str, list[dict[str, Any]]]:
        socks = {n: await open_feed(k) for n, k in keys.items()}
        await drain(socks["operator1"])  # the earlier ticket's own events
        await drain(socks["donghu_staff"])
        answer = await sync_to_async(twilio_post)(Client(), "/webhooks/twilio/voice/", payload("voice_incoming"))
        assert answer.status_code == 200
        got = {n: await drain(s) for n, s in socks.items()}
        for s in socks.values():
            await s.disconnect()
        return got

    got = async_to_sync(go)()
    calls = [m for m in got["operator1"] if m["type"] == "call.incoming"]
    assert len(calls) == 1
    assert calls[0]["call_sid"] == "CA11111111111111111111111111111111"
    assert [t["number"] for t in calls[0]["history"]] == [earlier.number]
    assert not [m for m in got["donghu_staff"] if m["type"] == "call.incoming"]
