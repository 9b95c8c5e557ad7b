"""Issue 14, finding 3 (and issue 15's duplicate): every read of one ticket's citizen data is an
access record, and a phone reveal follows one rule whichever door it comes through."""

from __future__ import annotations

from typing import Any

import pytest

from tests.privacy.story import Matter, dispatch, file, page_client, staff
from tickets.core.models import TicketAccessLog, TicketEvent


def _views(user: str) -> list[str]:
    rows = TicketAccessLog.objects.filter(user__username=user, action="view").order_by("id")
    return [row.detail.get("via", "") for row in rows]


def test_reading_a_tickets_history_or_its_events_is_recorded_like_its_detail(city: Any) -> None:
    matter = Matter(channel="phone", national="13600136001", quotes_contact=False)
    file(matter, 1)
    dispatch(matter)
    rsj = staff("rsj_staff")

    assert rsj.get(f"/api/tickets/{matter.ticket_id}/history/").status_code == 200
    assert rsj.get(f"/api/events/?ticket={matter.ticket_id}").status_code == 200
    assert rsj.get(f"/api/tickets/{matter.ticket_id}/").status_code == 200
    assert page_client("rsj_staff").get(f"/unit/tickets/{matter.ticket_id}/").status_code == 200

    assert _views("rsj_staff") == ["api.history", "api.events", "api.detail", "page.unit"]
    assert set(TicketAccessLog.objects.filter(action="view").values_list("ticket_id", flat=True)) == {matter.ticket_id}
    # Another unit's attempt is a 404 and leaves no record of a view that did not happen.
    assert staff("zjj_staff").get(f"/api/tickets/{matter.ticket_id}/history/").status_code == 404
    assert staff("zjj_staff").get(f"/api/events/?ticket={matter.ticket_id}").status_code == 404
    assert _views("zjj_staff") == []


def test_the_live_feed_and_the_ticket_list_are_an_inbox_not_a_view(city: Any) -> None:
    matter = Matter(channel="phone", national="13600136002", quotes_contact=False)
    file(matter, 2)
    dispatch(matter)
    rsj = staff("rsj_staff")
    assert rsj.get("/api/events/?after=0").status_code == 200
    assert rsj.get("/api/tickets/").status_code == 200
    assert _views("rsj_staff") == []


@pytest.mark.parametrize("door", ["api", "page"])
def test_a_reveal_follows_one_rule_at_the_api_and_on_the_unit_page(city: Any, door: str) -> None:
    hidden = Matter(channel="phone", national="13600136003", privacy="confidential", quotes_contact=False)
    public = Matter(channel="phone", national="13600136004", quotes_contact=False)
    for seq, matter in enumerate((hidden, public)):
        file(matter, 10 + seq)
        dispatch(matter)

    def reveal(username: str, matter: Matter) -> Any:
        if door == "api":
            return staff(username).post(f"/api/tickets/{matter.ticket_id}/reveal-phone/")
        return page_client(username).post(f"/unit/tickets/{matter.ticket_id}/reveal-phone/", HTTP_HX_REQUEST="true")

    # Unit staff: refused on a 保密 ticket (nothing recorded), shown and recorded otherwise.
    assert reveal("rsj_staff", hidden).status_code == 403
    assert not TicketAccessLog.objects.filter(action="reveal_phone").exists()
    shown = reveal("rsj_staff", public)
    assert shown.status_code == 200 and public.national in shown.content.decode().replace(" ", "")  # 136 0013 6004
    # The admin (centre) may reveal a 保密 number at both doors; the page used to refuse what the API allowed.
    admin = reveal("admin", hidden)
    assert admin.status_code == 200 and hidden.national in admin.content.decode().replace(" ", "")
    logged = TicketAccessLog.objects.filter(action="reveal_phone").order_by("id")
    assert [(r.user.username, r.ticket_id) for r in logged] == [
        ("rsj_staff", public.ticket_id),
        ("admin", hidden.ticket_id),
    ]
    assert {r.detail["via"] for r in logged} == {"api" if door == "api" else "page.unit"}
    revealed = TicketEvent.objects.filter(action="phone_revealed").order_by("id")
    assert [(e.actor.username, e.ticket_id) for e in revealed if e.actor] == [
        ("rsj_staff", public.ticket_id),
        ("admin", hidden.ticket_id),
    ]
