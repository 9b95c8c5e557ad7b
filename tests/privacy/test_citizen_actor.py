"""Issue 14, finding 1: a citizen's number never reaches a unit — not as the actor of the citizen's
own actions, not in the words they wrote, not in a notice that quotes them; 保密/匿名 tickets show
a unit nothing that identifies the citizen."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.utils import timezone

from tests.live.conftest import drain, open_feed
from tests.privacy.story import (
    Matter,
    body_text,
    dispatch,
    file,
    handle,
    leaks,
    page_client,
    rate,
    shows_number,
    staff,
    subscribe,
)
from tickets.core.models import Ticket, TicketEvent
from tickets.messaging.models import SmsMessage
from tickets.supervision.models import Supervision
from tickets.supervision.services import scanner

CITIZEN_LABEL = "市民"  # what every reader sees as the actor of a citizen's own action


def test_the_citizens_own_actions_are_shown_as_citizen_never_as_their_number(city: Any) -> None:
    matter = Matter(channel="sms", national="13600136000", quotes_contact=False, append=True)
    file(matter, 1)
    dispatch(matter)
    handle(matter)
    rate(matter, 1)
    rsj = staff("rsj_staff")

    history = rsj.get(f"/api/tickets/{matter.ticket_id}/history/").json()
    mine = [e for e in history if e["actor_kind"] == "citizen"]
    assert {e["action"] for e in mine} >= {"created", "message_appended", "rated", "rating_completed"}
    assert {e["actor"] for e in mine} == {CITIZEN_LABEL}
    for url in (
        f"/api/tickets/{matter.ticket_id}/",
        f"/api/tickets/{matter.ticket_id}/history/",
        f"/api/events/?ticket={matter.ticket_id}",
        "/api/events/?after=0",
    ):
        assert not shows_number(body_text(rsj.get(url)), matter.national), url
    # The centre still reaches the citizen: the number is on the ticket, not in the history's actor.
    centre = staff("operator1").get(f"/api/tickets/{matter.ticket_id}/").json()
    assert centre["citizen_phone"] == matter.e164
    assert {e["actor"] for e in centre["history"] if e["actor_kind"] == "citizen"} == {CITIZEN_LABEL}
    stored = TicketEvent.objects.filter(ticket_id=matter.ticket_id, actor_kind="citizen")
    assert not any(matter.national in str(e.data.get("actor_label", "")) for e in stored)


def test_history_written_before_the_fix_with_the_number_as_actor_is_shown_as_citizen(city: Any) -> None:
    matter = Matter(channel="phone", national="13900139000", quotes_contact=False)
    file(matter, 1)
    dispatch(matter)
    ticket = Ticket.objects.get(pk=matter.ticket_id)
    TicketEvent.objects.create(  # as the old Actor.citizen(phone) recorded a rating
        ticket=ticket, actor_kind="citizen", action="rated", data={"actor_label": matter.e164, "satisfaction": "basic"}
    )

    unit_history = staff("rsj_staff").get(f"/api/tickets/{matter.ticket_id}/history/").json()
    [old] = [e for e in unit_history if e["action"] == "rated"]
    assert old["actor"] == CITIZEN_LABEL and "actor_label" not in old["data"]
    assert not shows_number(
        body_text(staff("rsj_staff").get(f"/api/events/?ticket={matter.ticket_id}")), matter.national
    )
    [centre] = [
        e
        for e in staff("supervisor1").get(f"/api/tickets/{matter.ticket_id}/history/").json()
        if e["action"] == "rated"
    ]
    assert centre["actor"] == CITIZEN_LABEL


@pytest.mark.django_db(transaction=True)
def test_the_live_feed_names_the_rating_citizen_without_their_number(city: Any, token: Any) -> None:
    matter = Matter(channel="sms", national="13700137000", quotes_contact=True, quote=1)
    key = token("rsj_staff")

    async def go() -> list[dict[str, Any]]:
        sock = await open_feed(key)
        await sync_to_async(file)(matter, 2)
        await sync_to_async(dispatch)(matter)
        frames = await subscribe(sock, matter.ticket_id)
        await sync_to_async(handle)(matter)
        await sync_to_async(rate)(matter, 2)
        frames += await drain(sock)
        await sock.disconnect()
        return frames

    frames = async_to_sync(go)()
    by_action = {f.get("action", f["type"]): f for f in frames}
    assert by_action["rating.received"]["actor"] == CITIZEN_LABEL
    assert by_action["rating_completed"]["actor"] == CITIZEN_LABEL
    for frame in frames:
        assert leaks(str(frame), matter) == [], frame


def test_a_confidential_ticket_shows_a_unit_nothing_of_the_citizen_even_in_their_own_words(city: Any) -> None:
    matter = Matter(channel="web", national="13500135000", privacy="confidential", quote=2)
    file(matter, 3)
    dispatch(matter)
    reads = {
        url: body_text(client.get(url))
        for client, urls in (
            (staff("rsj_staff"), ["/api/tickets/", f"/api/tickets/{matter.ticket_id}/", "/api/exports/tickets.csv"]),
            (page_client("rsj_staff"), ["/unit/", f"/tickets/{matter.ticket_id}/"]),
        )
        for url in urls
    }
    assert {url: leaks(text, matter) for url, text in reads.items()} == {url: [] for url in reads}
    assert "***" in reads[f"/api/tickets/{matter.ticket_id}/"]  # blanked, not dropped: the matter still reads
    centre = staff("operator1").get(f"/api/tickets/{matter.ticket_id}/").json()
    assert (
        matter.name in centre["text"]
        and matter.address in centre["text"]
        and shows_number(centre["text"], matter.national)
    )


def test_notices_to_the_unit_quote_the_title_without_the_citizens_number(city: Any) -> None:
    matter = Matter(channel="phone", national="13800138000", quote=0, supervise=True)
    matter.quotes_contact = False
    file(matter, 4)
    Ticket.objects.filter(pk=matter.ticket_id).update(title=f"路灯坏了 电话{matter.national}")
    dispatch(matter)
    handle(matter)  # with a supervisor's 督办
    scanner.deadlines_scan(now=timezone.now() + timedelta(days=1))  # nothing due: the reply is in
    another = Matter(channel="phone", national="13800138001", quotes_contact=False)
    file(another, 5)
    Ticket.objects.filter(pk=another.ticket_id).update(title=f"积水 {another.national[:3]} {another.national[3:]}")
    dispatch(another)
    scanner.deadlines_scan(now=timezone.now() + timedelta(days=30))  # 签收超时, 督办, 通报

    notices = list(Supervision.objects.filter(ticket_id__in=[matter.ticket_id, another.ticket_id]))
    assert {n.ticket_id for n in notices} == {matter.ticket_id, another.ticket_id}
    for notice in notices:
        assert "路灯坏了 电话138****8000" in notice.text or "积水 138****8001" in notice.text, notice.text
    liaison_sms = SmsMessage.objects.filter(body__in=[n.text for n in notices])
    assert not any(shows_number(m.body, matter.national) or shows_number(m.body, another.national) for m in liaison_sms)
    history = body_text(staff("rsj_staff").get(f"/api/tickets/{another.ticket_id}/history/"))
    assert "积水 138****8001" in history and not shows_number(history, another.national)
