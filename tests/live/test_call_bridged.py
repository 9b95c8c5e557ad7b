"""来电弹屏 over real sockets: `call.bridged` reaches the bridged operator's sockets and nobody
else's (another operator, a supervisor, a unit); the wallboard reaches supervisors only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from channels_app import broadcast
from channels_app.payloads import CallBridged, Envelope
from channels_app.readers import payload_for_reader, reader_for
from tests.live.conftest import drain, open_feed
from tickets.org.models import User

pytestmark = pytest.mark.django_db(transaction=True)


def _bridged(operator: User) -> CallBridged:
    return CallBridged(
        type="call.bridged", cursor=None, at="2026-12-02T09:00:00+08:00", operator=operator.pk,
        call_sid="CA" + "1" * 32, desk="普通话综合", phone="+8613812341234", wait_seconds=12,
        repeat_caller=True, opted_out=False, confidential_history=False,
        history=[{"id": 1, "number": "20261202000001", "title": "路灯不亮", "state": "处理中", "created_at": None}],
    )  # fmt: skip


def test_the_pop_goes_to_the_bridged_operator_alone(token: Callable[[str], str]) -> None:
    names = ["operator1", "operator2", "supervisor1", "donghu_staff"]
    keys = {n: token(n) for n in names}
    operator1 = User.objects.get(username="operator1")

    async def go() -> dict[str, list[dict[str, Any]]]:
        socks = {n: await open_feed(keys[n]) for n in names}
        assert await sync_to_async(broadcast.call_bridged_push)(_bridged(operator1))
        await sync_to_async(broadcast.wallboard_push)({"desks": [], "seats": []})
        got = {n: await drain(s) for n, s in socks.items()}
        for s in socks.values():
            await s.disconnect()
        return got

    got = async_to_sync(go)()
    assert [m["type"] for m in got["operator1"]] == ["call.bridged"]
    pop = got["operator1"][0]
    assert (pop["call_sid"], pop["phone"], pop["history"][0]["number"]) == (
        "CA" + "1" * 32,
        "+8613812341234",
        "20261202000001",
    )
    assert got["operator2"] == []
    assert [m["type"] for m in got["supervisor1"]] == ["wallboard"]
    assert got["donghu_staff"] == []


def test_a_pop_that_reached_another_reader_is_dropped_by_the_reader_filter(city: Any) -> None:
    operator1, operator2 = (User.objects.get(username=n) for n in ("operator1", "operator2"))
    envelope = Envelope(payload=_bridged(operator1), unit_paths=[])
    assert payload_for_reader(envelope, reader_for(operator2)) is None  # type: ignore[arg-type]
    assert payload_for_reader(envelope, reader_for(operator1))["phone"] == "+8613812341234"  # type: ignore[arg-type,index]
