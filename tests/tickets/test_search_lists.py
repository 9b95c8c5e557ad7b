"""工单查询 without a browser: keyset pages, forged cursors, capped counts, the short-word window,
saved views per user, and the surge alert's live payload (centre only)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from channels_app import payloads as p
from channels_app.envelopes import envelopes_build
from channels_app.readers import payload_for_reader, reader_for
from tests.tickets.helpers import dispatched, new_ticket
from tickets.core import search
from tickets.core.models import Ticket, TicketEvent
from tickets.duplicates.models import HotspotAlert
from tickets.duplicates.services import hotspots
from tickets.errors import NotFound, TransitionNotAllowed
from tickets.org import services as org_services
from tickets.org.models import SavedView, User


def _client(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def _numbers(html: str) -> list[str]:
    return re.findall(r'data-testid="row-(\d+)"', html)


def test_keyset_pages_cover_every_ticket_once_in_each_sort(city: Any) -> None:
    made = [new_ticket(text=f"第{i}件：小区道路破损积水", auto_route=False, phone="") for i in range(23)]
    client = _client("supervisor1")
    for sort, expected in (("new", [t.number for t in reversed(made)]), ("old", [t.number for t in made])):
        first = client.get("/tickets/", {"sort": sort}).content.decode()
        assert "第 1–20 件，共 23 件" in first
        nxt = re.search(r'href="/tickets/\?([^"]*after=[^"]*)"', first)
        assert nxt is not None
        second = client.get("/tickets/?" + nxt.group(1).replace("&amp;", "&")).content.decode()
        assert "第 21–23 件" in second and 'rel="next"' not in second
        assert _numbers(first) + _numbers(second) == expected


def test_a_forged_or_foreign_cursor_is_a_400_in_chinese(city: Any) -> None:
    new_ticket(auto_route=False)
    client = _client("operator1")
    forged = client.get("/tickets/", {"after": "eyJpZCI6MX0:forged"})
    assert forged.status_code == 400 and "翻页位置无效" in forged.content.decode()
    cursor = search.cursor_make(Ticket.objects.get(), "new")
    other_sort = client.get("/tickets/", {"after": cursor, "sort": "old"})
    assert other_sort.status_code == 400 and "翻页位置与排序方式不符" in other_sort.content.decode()
    bad_date = client.get("/tickets/", {"date_from": "2026-13-40"})
    assert bad_date.status_code == 400 and "受理日期起" in bad_date.content.decode()


def test_counts_are_capped_instead_of_counting_the_table(city: Any) -> None:
    for i in range(5):
        new_ticket(text=f"第{i}件：噪音扰民", auto_route=False)
    assert search.count_capped(Ticket.objects.all(), cap=3) == (3, True)
    assert search.count_capped(Ticket.objects.all(), cap=5) == (5, False)


def test_one_or_two_characters_search_only_the_newest_tickets(city: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    old = new_ticket(text="停水三天了", auto_route=False)
    recent = [new_ticket(text=f"第{i}栋停水", auto_route=False) for i in range(2)]
    monkeypatch.setattr(search, "SHORT_TERM_WINDOW", 2)
    page = _client("operator1").get("/tickets/", {"q": "停水"}).content.decode()
    assert sorted(_numbers(page)) == sorted(t.number for t in recent) and old.number not in page
    assert "一两个字的关键词只检索最近 2 件工单" in page
    longer = _client("operator1").get("/tickets/", {"q": "停水三天"}).content.decode()
    assert _numbers(longer) == [old.number]  # three characters and more: every ticket


def test_saved_views_belong_to_their_owner(city: Any) -> None:
    op, disp = User.objects.get(username="operator1"), User.objects.get(username="dispatcher1")
    view = org_services.saved_view_create(user=op, name=" 本周  超期 ", query="overdue=true")
    assert view.name == "本周 超期"
    with pytest.raises(TransitionNotAllowed):
        org_services.saved_view_create(user=op, name="本周 超期", query="")
    with pytest.raises(NotFound):
        org_services.saved_view_delete(user=disp, view_id=view.pk)
    page = _client("dispatcher1").get("/tickets/").content.decode()
    assert "本周 超期" not in page
    org_services.saved_view_delete(user=op, view_id=view.pk)
    assert not SavedView.objects.exists()


def test_a_surge_alert_is_pushed_to_the_centre_and_never_to_units(units: Any) -> None:
    ticket, _ = dispatched(units["rsj"], text="光明小区停水")
    alert = HotspotAlert.objects.create(
        key="k",
        day=ticket.created_at.date(),
        label="东湖区：停水、光明",
        place="东湖区",
        keywords=["停水"],
        current_count=8,
        baseline_per_day=1.0,
        growth=8.0,
        representative=ticket,
        ticket_ids=[ticket.pk],
    )
    hotspots.hotspot_surge_announce(alert=alert)
    (envelope,) = envelopes_build(TicketEvent.objects.filter(action="hotspot.surge"))
    assert envelope["payload"]["type"] == p.HOTSPOT_SURGE
    supervisor = payload_for_reader(envelope, reader_for(User.objects.get(username="supervisor1")))  # type: ignore[arg-type]
    assert supervisor is not None and supervisor["label"] == "东湖区：停水、光明"  # type: ignore[typeddict-item]
    assert payload_for_reader(envelope, reader_for(User.objects.get(username="rsj_staff"))) is None  # type: ignore[arg-type]
