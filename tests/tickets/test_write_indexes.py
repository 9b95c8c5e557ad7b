"""Every intake and routing update writes each index of the tables it touches: none of them may be
a duplicate that another index already serves (PostgreSQL, the production database)."""

from __future__ import annotations

import pytest
from django.db import connection

from tickets.core.models import Ticket, TicketEvent
from tickets.duplicates.models import TicketBand

pytestmark = pytest.mark.django_db

HOT_TABLES = ("tickets_ticket", "tickets_assignment", "tickets_ticketevent", "tickets_ticketband")


def _btree_indexes(table: str) -> list[tuple[str, tuple[str, ...], str, str]]:
    """(name, key columns, opclasses, predicate) of each plain btree index of a table."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.relname,
                   array(SELECT pg_get_indexdef(x.indexrelid, k, true) FROM generate_series(1, x.indnkeyatts) AS k),
                   x.indclass::text,
                   coalesce(pg_get_expr(x.indpred, x.indrelid), '')
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class t ON t.oid = x.indrelid
            JOIN pg_am am ON am.oid = i.relam
            WHERE t.relname = %s AND am.amname = 'btree' AND NOT x.indisunique
            """,
            [table],
        )
        return [(name, tuple(keys), opclasses, predicate) for name, keys, opclasses, predicate in cursor.fetchall()]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="index layout of the production database")
@pytest.mark.parametrize("table", HOT_TABLES)
def test_no_index_of_a_hot_table_is_served_by_another(table: str) -> None:
    indexes = _btree_indexes(table)
    assert indexes
    for name, keys, opclasses, predicate in indexes:
        for other, other_keys, other_opclasses, other_predicate in indexes:
            if other == name or predicate != other_predicate:
                continue
            prefix = other_keys[: len(keys)] == keys and other_opclasses.split()[: len(keys)] == opclasses.split()
            assert not (prefix and len(other_keys) >= len(keys)), f"{name} {keys} is served by {other} {other_keys}"


def test_a_tickets_bands_go_with_it_without_a_database_constraint(operator_api_ticket: Ticket) -> None:
    """The bands have no foreign key in the database; the ORM still deletes them with their ticket."""
    ticket = operator_api_ticket
    assert TicketBand.objects.filter(ticket=ticket).count() == 32
    TicketEvent.objects.filter(ticket=ticket).delete()
    ticket.assignments.all().delete()
    ticket.delete()
    assert not TicketBand.objects.filter(ticket_id=ticket.pk).exists()


@pytest.fixture
def operator_api_ticket() -> Ticket:
    from tickets.duplicates.services import duplicates

    text = "东湖区人民路夜间施工噪音扰民"
    ticket = Ticket.objects.create(number="20261204999001", channel="phone", title="噪音", text=text)
    duplicates.tickets_fingerprint_store_new(tickets=[ticket])
    return ticket
