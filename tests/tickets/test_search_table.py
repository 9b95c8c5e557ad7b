"""工单查询's search table (PostgreSQL, migration 0019): every path that writes a ticket's words keeps
it, nothing else writes it, and what a search finds is what it found in the ticket's own columns."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from tests.tickets.helpers import new_ticket
from tickets.core.models import Ticket
from tickets.intake.services import routing_batch
from tickets.org.models import User

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the search table is PostgreSQL's")

SEP = "\x1f"


def _row(ticket_id: int) -> tuple[str, int] | None:
    """(doc, xmin): the search row and the transaction that last wrote it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT doc, xmin::text::bigint FROM tickets_ticketsearch WHERE ticket_id = %s", [ticket_id])
        row = cursor.fetchone()
    return None if row is None else (row[0], row[1])


def _found(q: str, username: str = "operator1") -> list[str]:
    client = Client()
    client.force_login(User.objects.get(username=username))
    page = client.get("/tickets/", {"q": q})
    assert page.status_code == 200
    return re.findall(r'data-testid="row-(\d+)"', page.content.decode())


def _ticket_xmin(ticket_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT xmin::text::bigint FROM tickets_ticket WHERE id = %s", [ticket_id])
        return int(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)  # each statement its own transaction: xmin tells who wrote a row
def test_a_new_ticket_is_searchable_at_once_and_its_row_is_written_once_by_routing(
    city: Any, demo_model: Any, settings: Any
) -> None:
    settings.ROUTING_INLINE = False
    ticket = new_ticket(text="东湖区新华路夜间施工噪音扰民，凌晨两点还在打桩。", address="新华路8号")
    # The accept writes no search row (migration 0020: it waits for routing), yet the words find it.
    assert _row(ticket.pk) is None
    assert _found("凌晨两点") == [ticket.number]
    assert routing_batch.tickets_route_pending(ids=[ticket.pk])
    ticket.refresh_from_db()
    assert ticket.lead_unit is not None and ticket.lead_unit.code == "donghu"
    doc, written = _row(ticket.pk) or ("", 0)
    assert doc == SEP.join([ticket.title, ticket.text, "新华路8号"])
    assert _found("凌晨两点") == [ticket.number]  # once: from the search row, no longer from the queue
    routed = _ticket_xmin(ticket.pk)
    Ticket.objects.filter(pk=ticket.pk).update(is_flagged=True, state="processing")  # a later update ...
    assert _ticket_xmin(ticket.pk) != routed  # ... rewrote the ticket row ...
    assert _row(ticket.pk) == (doc, written)  # ... not its search row: no word re-indexed


@pytest.mark.django_db(transaction=True)
def test_a_queued_ticket_gets_its_row_whichever_path_takes_it_out_of_the_queue(city: Any, settings: Any) -> None:
    settings.ROUTING_INLINE = False
    ticket = new_ticket(text="南城区永安街路灯连续三晚不亮，行人摔倒。", title="路灯不亮", address="永安街5号")
    assert _row(ticket.pk) is None
    with connection.cursor() as cursor:  # raw SQL, as a repair script would
        cursor.execute("UPDATE tickets_ticket SET text = %s WHERE id = %s", ["永安街路灯连续四晚不亮。", ticket.pk])
    assert _found("连续四晚") == [ticket.number] and _found("连续三晚") == []
    Ticket.objects.filter(pk=ticket.pk).update(route_state="")
    assert (_row(ticket.pk) or ("",))[0] == SEP.join(["路灯不亮", "永安街路灯连续四晚不亮。", "永安街5号"])
    assert _found("连续四晚") == [ticket.number]


def test_changed_words_are_searched_by_every_path(city: Any) -> None:
    ticket = new_ticket(text="小区门口垃圾堆放多日无人清运。", title="垃圾清运", auto_route=False)
    ticket.text = "小区门口井盖缺失，夜里有人掉进去。"
    ticket.save()  # every column, through the ORM
    assert _found("井盖缺失") == [ticket.number] and _found("无人清运") == []
    Ticket.objects.filter(pk=ticket.pk).update(citizen_address="南城区永安街5号")
    assert _found("永安街5号") == [ticket.number]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE tickets_ticket SET title = %s WHERE id = %s", ["路灯不亮", ticket.pk])
    assert _found("路灯不亮") == [ticket.number]


def test_a_term_never_matches_across_the_title_and_the_text(city: Any) -> None:
    ticket = new_ticket(text="水管爆裂整栋楼停水。", title="报修甲乙", auto_route=False)
    assert _found("甲乙水管") == []  # the end of the title + the start of the text
    assert _found("报修甲乙") == [ticket.number] and _found("整栋楼停水") == [ticket.number]
    assert _found("甲乙\x1f水管") == []  # the separator itself is not searched for


def test_the_ticket_table_has_no_word_index_left(city: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'tickets_ticket' AND indexdef LIKE '%%gin_trgm_ops%%'"
        )
        assert cursor.fetchall() == []
