"""GET /api/events/?after=<cursor>: what a client missed, exactly as the socket would have sent it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.db import connection, connections, transaction
from rest_framework.test import APIClient

from tests.live.conftest import drain, open_socket
from tests.live.test_feed_filtering import _dispatch, _new_ticket
from tickets.core.actors import Actor
from tickets.core.models import Ticket, TicketEvent
from tickets.core.services import workflow
from tickets.org.models import User


def _events(api: APIClient, **params: Any) -> dict[str, Any]:
    response = api.get("/api/events/", params)
    assert response.status_code == 200, response.content
    return response.json()  # type: ignore[no-any-return]


def _sign(ticket: Ticket, username: str) -> None:
    workflow.assignment_sign(assignment=ticket.assignments.get(), actor=Actor.of(User.objects.get(username=username)))


@pytest.mark.django_db(transaction=True)
def test_catch_up_returns_what_the_socket_sent_in_the_same_shape(
    token: Callable[[str], str], api: Callable[[str], APIClient]
) -> None:
    key = token("donghu_staff")

    async def go() -> tuple[int, list[dict[str, Any]]]:
        sock, connected, _ = await open_socket(query=f"token={key}")
        assert connected
        hello = await sock.receive_json_from(timeout=5)
        ticket = await sync_to_async(_new_ticket)()
        ticket = await sync_to_async(_dispatch)(ticket, "donghu-xinhua")
        await sync_to_async(_sign)(ticket, "donghu_xinhua_staff")
        got = await drain(sock)
        await sock.disconnect()
        return hello["cursor"], got

    start, live = async_to_sync(go)()
    assert [m["type"] for m in live] == ["ticket.dispatched", "assignment.signed"]
    replay = _events(api("donghu_staff"), after=start)
    assert replay["events"] == live
    assert replay["has_more"] is False
    # Nothing new after the last cursor: only the recent look-back, all cursors already seen.
    again = _events(api("donghu_staff"), after=replay["cursor"])["events"]
    assert again == live


@pytest.mark.django_db
def test_catch_up_is_filtered_for_the_reader(api: Callable[[str], APIClient]) -> None:
    secret = _dispatch(_new_ticket(confidential=True), "donghu-xinhua")
    plain = _dispatch(_new_ticket(), "donghu-xinhua")

    unit = _events(api("donghu_xinhua_staff"))["events"]
    assert [(e["type"], e["ticket"]["id"]) for e in unit] == [
        ("ticket.dispatched", secret.pk),
        ("ticket.dispatched", plain.pk),
    ]
    assert unit[0]["ticket"]["citizen_phone"] == "" and unit[0]["ticket"]["citizen_name"] == ""
    assert unit[1]["ticket"]["citizen_phone"] == "138****1234"

    assert _events(api("rsj_staff"))["events"] == []  # another unit's tickets: nothing
    supervisor = _events(api("supervisor1"))["events"]
    assert [e["type"] for e in supervisor] == ["ticket.created", "ticket.dispatched"] * 2
    assert supervisor[-1]["ticket"]["citizen_phone"] == "+8613812341234"


@pytest.mark.django_db
def test_catch_up_pages_by_cursor(api: Callable[[str], APIClient]) -> None:
    for _ in range(3):
        _new_ticket()
    client = api("operator1")
    seen: list[int] = []
    after, pages = 0, 0
    while True:
        page = _events(client, after=after, limit=2)
        seen += [e["cursor"] for e in page["events"] if e["cursor"] not in seen]  # drop look-back repeats
        after, pages = page["cursor"], pages + 1
        if not page["has_more"]:
            break
    assert len(seen) == 6 and seen == sorted(seen)  # created + needs_dispatch per ticket
    assert pages >= 3


@pytest.mark.django_db
def test_watching_one_ticket_replays_all_its_changes_but_only_a_ticket_one_may_see(
    api: Callable[[str], APIClient],
) -> None:
    ticket = _dispatch(_new_ticket(), "donghu-xinhua")
    _sign(ticket, "donghu_xinhua_staff")
    events = _events(api("donghu_staff"), ticket=ticket.pk)["events"]
    assert "ticket.dispatched" in [e["type"] for e in events]
    assert "assignment.signed" in [e["type"] for e in events]
    assert all(e["ticket"]["citizen_phone"] in ("", "138****1234") for e in events)
    response = api("rsj_staff").get("/api/events/", {"ticket": ticket.pk})
    assert response.status_code == 404


@pytest.mark.django_db
def test_catch_up_needs_a_signed_in_user_and_a_sane_query(api: Callable[[str | None], APIClient]) -> None:
    assert api(None).get("/api/events/").status_code in (401, 403)
    assert api("operator1").get("/api/events/", {"after": "-1"}).status_code == 400
    assert api("operator1").get("/api/events/", {"limit": "100000"}).status_code == 400


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs two concurrent transactions (set DATABASE_URL)")
def test_an_event_that_commits_after_a_later_one_is_still_caught_up(api: Callable[[str], APIClient]) -> None:
    """Ids are drawn at insert: a slow transaction's event can become visible after a later id was read."""
    slow_ticket, quick_ticket = _new_ticket(), _new_ticket()
    client = api("supervisor1")
    initial = _events(client)
    seen = {e["cursor"] for e in initial["events"]}  # a client drops cursors it has handled
    written, release = threading.Event(), threading.Event()

    def slow_dispatch() -> None:
        try:
            with transaction.atomic():
                _dispatch(slow_ticket, "donghu-xinhua")
                written.set()
                release.wait(timeout=30)  # still open while the other write commits and is read
        finally:
            connections.close_all()

    writer = threading.Thread(target=slow_dispatch)
    writer.start()
    try:
        assert written.wait(timeout=30)
        _dispatch(quick_ticket, "rsj")  # a later id, committed first
        first = _events(client, after=initial["cursor"])
    finally:
        release.set()
        writer.join(timeout=30)
    fresh = [e for e in first["events"] if e["cursor"] not in seen]
    assert [(e["type"], e["ticket"]["id"]) for e in fresh] == [("ticket.dispatched", quick_ticket.pk)]
    seen |= {e["cursor"] for e in fresh}
    slow_event = TicketEvent.objects.get(ticket=slow_ticket, action="dispatch")
    assert slow_event.pk < first["cursor"]  # behind the cursor the client now holds

    later = _events(client, after=first["cursor"])
    new = [(e["type"], e["cursor"]) for e in later["events"] if e["cursor"] not in seen]
    assert new == [("ticket.dispatched", slow_event.pk)]
