"""Who hears what: role groups, unit groups (with descendants), watched tickets, masking."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from channels_app.broadcast import broadcast_call_incoming
from tests.live.conftest import drain, open_feed
from tickets.core.actors import Actor
from tickets.core.models import Ticket
from tickets.core.services import workflow
from tickets.intake.services import intake
from tickets.org.models import Unit, User

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = "13812341234"


def _new_ticket(**extra: Any) -> Ticket:
    """A phone ticket with no category: routing cannot decide, so it waits for a dispatcher."""
    return intake.ticket_create(
        actor=Actor.of(User.objects.get(username="operator1")),
        channel="phone",
        text="小区门口路灯坏了一个多月，晚上出行不安全",
        citizen_name="张三",
        citizen_phone=PHONE,
        citizen_address="新华路 8 号",
        **extra,
    )


def _dispatch(ticket: Ticket, unit_code: str) -> Ticket:
    return workflow.ticket_dispatch(
        ticket=ticket,
        actor=Actor.of(User.objects.get(username="dispatcher1")),
        lead_unit=Unit.objects.get(code=unit_code),
    )


def _types(messages: list[dict[str, Any]]) -> list[str]:
    return [m["type"] for m in messages]


def test_each_role_and_unit_hears_its_own_events(token: Callable[[str], str]) -> None:
    names = ["operator1", "dispatcher1", "supervisor1", "donghu_staff", "donghu_xinhua_staff", "rsj_staff"]
    keys = {n: token(n) for n in names}

    async def go() -> dict[str, list[dict[str, Any]]]:
        socks = {n: await open_feed(keys[n]) for n in names}
        ticket = await sync_to_async(_new_ticket)()
        await sync_to_async(_dispatch)(ticket, "donghu-xinhua")
        got = {n: await drain(s) for n, s in socks.items()}
        for s in socks.values():
            await s.disconnect()
        return got

    got = async_to_sync(go)()
    assert _types(got["operator1"]) == ["ticket.created", "ticket.needs_dispatch", "ticket.dispatched"]
    assert _types(got["dispatcher1"]) == ["ticket.created", "ticket.needs_dispatch", "ticket.dispatched"]
    assert _types(got["supervisor1"]) == ["ticket.created", "ticket.dispatched"]
    # The street's staff and its district's staff (a unit sees its descendants' tickets).
    assert _types(got["donghu_xinhua_staff"]) == ["ticket.dispatched"]
    assert _types(got["donghu_staff"]) == ["ticket.dispatched"]
    # Another unit hears nothing at all.
    assert got["rsj_staff"] == []

    cursors = [m["cursor"] for m in got["operator1"]]
    assert cursors == sorted(cursors) and len(set(cursors)) == 3
    dispatched = got["donghu_staff"][0]
    assert dispatched["lead_unit"] == {"code": "donghu-xinhua", "name": "新华街道"}
    assert dispatched["how"] == "dispatch"
    assert dispatched["ticket"]["state"] == "in_progress"


def test_unit_staff_get_a_masked_phone_and_the_centre_the_full_one(token: Callable[[str], str]) -> None:
    keys = {n: token(n) for n in ["supervisor1", "donghu_xinhua_staff"]}

    async def go() -> dict[str, list[dict[str, Any]]]:
        socks = {n: await open_feed(k) for n, k in keys.items()}
        ticket = await sync_to_async(_new_ticket)()
        await sync_to_async(_dispatch)(ticket, "donghu-xinhua")
        got = {n: await drain(s) for n, s in socks.items()}
        for s in socks.values():
            await s.disconnect()
        return got

    got = async_to_sync(go)()
    unit_view = got["donghu_xinhua_staff"][0]["ticket"]
    centre_view = got["supervisor1"][-1]["ticket"]
    assert unit_view["citizen_phone"] == "138****1234"
    assert unit_view["phone_masked"] is True
    assert unit_view["citizen_name"] == "张三"
    assert centre_view["citizen_phone"] == "+8613812341234"
    assert centre_view["phone_masked"] is False


def test_a_confidential_ticket_reaches_the_unit_without_any_citizen_data(token: Callable[[str], str]) -> None:
    keys = {n: token(n) for n in ["supervisor1", "donghu_staff"]}

    async def go() -> dict[str, list[dict[str, Any]]]:
        socks = {n: await open_feed(k) for n, k in keys.items()}
        ticket = await sync_to_async(_new_ticket)(confidential=True)
        await sync_to_async(_dispatch)(ticket, "donghu-xinhua")
        got = {n: await drain(s) for n, s in socks.items()}
        for s in socks.values():
            await s.disconnect()
        return got

    got = async_to_sync(go)()
    [event] = got["donghu_staff"]
    assert event["ticket"]["confidential"] is True
    assert (event["ticket"]["citizen_name"], event["ticket"]["citizen_phone"], event["ticket"]["citizen_address"]) == (
        "",
        "",
        "",
    )
    assert PHONE not in str(event) and "张三" not in str(event)
    assert got["supervisor1"][-1]["ticket"]["citizen_name"] == "张三"


def test_a_unit_can_watch_its_ticket_but_not_another_units(token: Callable[[str], str]) -> None:
    keys = {n: token(n) for n in ["donghu_staff", "rsj_staff", "supervisor1"]}
    ticket = _dispatch(_new_ticket(), "donghu-xinhua")
    xinhua = User.objects.get(username="donghu_xinhua_staff")

    async def go() -> dict[str, list[dict[str, Any]]]:
        socks = {n: await open_feed(k) for n, k in keys.items()}
        for sock in socks.values():
            await sock.send_json_to({"type": "subscribe", "ticket": ticket.pk})
        replies = {n: [await s.receive_json_from(timeout=5)] for n, s in socks.items()}
        assignment = await sync_to_async(lambda: ticket.assignments.get())()
        await sync_to_async(workflow.assignment_sign)(assignment=assignment, actor=Actor.of(xinhua))
        # A change no role feed carries: only the ticket's watchers hear it.
        await sync_to_async(workflow.assignment_reply)(assignment=assignment, actor=Actor.of(xinhua), text="已修复")
        for n, s in socks.items():
            replies[n] += await drain(s)
            await s.disconnect()
        return replies

    got = async_to_sync(go)()
    assert got["rsj_staff"][0] == {
        "type": "error",
        "code": "not_found",
        "message": "工单不存在或无权查看",
        "ticket": ticket.pk,
    }
    assert got["rsj_staff"][1:] == []
    assert _types(got["donghu_staff"]) == [
        "subscribed",
        "assignment.signed",
        "assignment.replied",
        "ticket.changed",
    ]
    assert got["donghu_staff"][-1]["action"] == "lead_replied"
    # The supervisor hears `signed` by role and as a watcher, but only once.
    assert _types(got["supervisor1"]).count("assignment.signed") == 1
    assert got["donghu_staff"][2]["text_excerpt"] == "已修复"


def test_an_incoming_call_pops_up_for_operators_only(token: Callable[[str], str]) -> None:
    keys = {n: token(n) for n in ["operator1", "dispatcher1", "donghu_staff"]}
    earlier = _new_ticket()

    async def go() -> dict[str, list[dict[str, Any]]]:
        socks = {n: await open_feed(k) for n, k in keys.items()}
        sent = await sync_to_async(broadcast_call_incoming)("CA123", "+8613812341234", [earlier])
        assert sent
        got = {n: await drain(s) for n, s in socks.items()}
        for s in socks.values():
            await s.disconnect()
        return got

    got = async_to_sync(go)()
    [call] = got["operator1"]
    assert call["type"] == "call.incoming" and call["cursor"] is None
    assert call["call_sid"] == "CA123" and call["phone"] == "+8613812341234"
    assert [t["number"] for t in call["history"]] == [earlier.number]
    assert got["dispatcher1"] == [] and got["donghu_staff"] == []


def test_a_rolled_back_change_is_never_announced(token: Callable[[str], str]) -> None:
    key = token("supervisor1")

    def doomed() -> None:
        from django.db import transaction

        try:
            with transaction.atomic():
                _new_ticket()
                raise RuntimeError("boom")
        except RuntimeError:
            pass

    async def go() -> list[dict[str, Any]]:
        sock = await open_feed(key)
        await sync_to_async(doomed)()
        got = await drain(sock)
        await sock.disconnect()
        return got

    assert async_to_sync(go)() == []
