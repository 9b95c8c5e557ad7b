"""Writing many rows at once (tickets/core/services/rows.py) stores exactly what Django's bulk_create
and bulk_update store: on PostgreSQL through COPY and UPDATE … FROM (VALUES …), on SQLite through
Django's own calls. Run on both by CI (DATABASE_URL set) and by the embedded default."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DataError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tickets.core.actors import Actor
from tickets.core.models import ActorKind, Assignment, AssignmentRole, Ticket, TicketEvent
from tickets.core.services.rows import objects_insert, objects_insert_linked, objects_update, rows_insert
from tickets.duplicates.models import TicketBand
from tickets.intake.services import intake
from tickets.org.models import Unit, User

pytestmark = pytest.mark.django_db(transaction=False)

TRICKY = "引号'和\\反斜杠\t制表\n换行"  # what COPY's text format must escape


def _ticket(text: str = "东湖区幸福小区路灯坏了一个多月，请尽快维修。") -> Ticket:
    operator = Actor.of(User.objects.get(username="operator1"))
    return intake.ticket_create(actor=operator, channel="phone", text=text, auto_route=False)


def test_inserted_objects_get_their_ids_in_order_and_read_back_as_written(city: object) -> None:
    ticket = _ticket()
    unit = Unit.objects.get(code="donghu")
    assignment = Assignment(
        ticket=ticket, unit=unit, unit_path=unit.path, role=AssignmentRole.LEAD, round=1, dispatched_at=timezone.now()
    )
    [assignment] = objects_insert([assignment])
    assert assignment.pk is not None and not assignment._state.adding
    events = [
        TicketEvent(ticket=ticket, actor_kind=ActorKind.SYSTEM, action="classified", data={"label": "路灯", "n": 1}),
        # The assignment was saved after this object was made: its id is taken as bulk_create takes it.
        TicketEvent(ticket=ticket, assignment=assignment, actor_kind=ActorKind.SYSTEM, action="assignment_created"),
        TicketEvent(ticket=ticket, actor_kind=ActorKind.SYSTEM, action="dispatch", reason=TRICKY, data={}),
    ]
    written = objects_insert(events)

    ids = [e.pk for e in written]
    assert all(ids) and ids == sorted(ids)  # in list order, as the history reads them
    stored = {e.pk: e for e in TicketEvent.objects.filter(pk__in=ids)}
    assert stored[ids[0]].data == {"label": "路灯", "n": 1} and stored[ids[0]].assignment_id is None
    assert stored[ids[1]].assignment_id == assignment.pk
    assert stored[ids[2]].reason == TRICKY and stored[ids[2]].data == {}
    assert all(e.created_at is not None for e in stored.values())  # auto_now_add filled, as bulk_create fills it


def test_rows_without_ids_and_with_json_columns(city: object) -> None:
    ticket = _ticket()
    now = timezone.now()
    extremes = [-(2**63), 2**63 - 1]  # the band keys are signed 64-bit
    bands = [(key, now, ticket.pk) for key in extremes]
    assert rows_insert(TicketBand, ("key", "created_at", "ticket_id"), bands, with_ids=False) == []
    stored = TicketBand.objects.filter(ticket=ticket, key__in=extremes).values_list("key", "created_at")
    assert sorted(stored) == [(key, now) for key in extremes]
    [pk] = rows_insert(
        TicketEvent,
        ("ticket_id", "actor_kind", "action", "from_state", "to_state", "reason", "data", "created_at"),
        [(ticket.pk, ActorKind.SCHEDULER, "sla.warning", "", "", "", {"level": "warn", "单位": "东湖区"}, now)],
        json_columns={"data"},
    )
    assert TicketEvent.objects.get(pk=pk).data == {"level": "warn", "单位": "东湖区"}


def test_an_update_of_a_set_writes_each_row_its_own_values_and_only_the_named_columns(city: object) -> None:
    first, second, untouched = _ticket(), _ticket("西山区工地夜间施工噪声扰民。"), _ticket("咨询居住证材料。")
    unit = Unit.objects.get(code="donghu")
    due = timezone.now() + timedelta(days=3)
    first.state, first.lead_unit, first.due_at, first.classification = "in_progress", unit, due, {"top": ["路灯"]}
    second.state, second.lead_unit, second.due_at, second.classification = "dispatching", None, None, None
    first.title = second.title = "不应写入"  # not a named column

    with CaptureQueriesContext(connection) as ctx:
        updated = objects_update([first, second], ["state", "lead_unit", "due_at", "classification"])

    assert updated == 2 and len(ctx.captured_queries) == 1
    a, b, c = (Ticket.objects.get(pk=t.pk) for t in (first, second, untouched))
    assert (a.state, a.lead_unit_id, a.due_at, a.classification) == ("in_progress", unit.pk, due, {"top": ["路灯"]})
    assert (b.state, b.lead_unit_id, b.due_at, b.classification) == ("dispatching", None, None, None)
    assert a.title != "不应写入" and b.title != "不应写入"
    assert c.state == untouched.state and c.updated_at == untouched.updated_at


def test_an_update_of_a_set_keeps_what_an_array_literal_must_escape_and_columns_that_are_all_empty(
    city: object,
) -> None:
    # Quotes, braces, commas, backslashes, the word NULL and empty strings are values, not syntax
    # (the statement's text is built here); a column empty in every row stays empty.
    tricky = [TRICKY + '{逗号,花括号}"双引号"', "NULL", ""]
    tickets = [_ticket(f"第{i}件：东湖区幸福小区路灯坏了一个多月。") for i in range(3)]
    for ticket, title in zip(tickets, tricky, strict=True):
        ticket.title, ticket.due_at, ticket.classification = title, None, {"备注": title}

    assert objects_update(tickets, ["title", "due_at", "classification"]) == 3

    stored = [Ticket.objects.get(pk=t.pk) for t in tickets]
    assert [(t.title, t.due_at, t.classification) for t in stored] == [(v, None, {"备注": v}) for v in tricky]


def test_an_update_naming_something_that_is_not_a_column_is_refused_and_writes_nothing(city: object) -> None:
    ticket = _ticket()
    ticket.state = "dispatching"
    with pytest.raises(ValueError):  # a reverse relation, not a column
        objects_update([ticket], ["state", "events"])
    assert Ticket.objects.get(pk=ticket.pk).state == "registered"


def _new_ticket(number: str, text: str = TRICKY) -> Ticket:
    return Ticket(number=number, channel="phone", text=text, title="路灯", citizen_phone="+8613900001111",
                  created_by=User.objects.get(username="operator1"), route_state="pending")  # fmt: skip


def test_a_ticket_and_its_event_are_stored_together_and_read_back_as_a_save_stores_them(city: object) -> None:
    ticket = _new_ticket("20261204990001")
    event = TicketEvent(ticket=ticket, actor_kind=ActorKind.USER, action="created", to_state="registered",
                        data={"channel": "phone", "raw": {"引号": TRICKY}})  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        objects_insert_linked(ticket, event, link="ticket")

    assert len(queries.captured_queries) == (1 if connection.vendor == "postgresql" else 4)  # SQLite: BEGIN … COMMIT
    assert ticket.pk is not None and event.pk is not None and event.ticket_id == ticket.pk
    assert not ticket._state.adding and not event._state.adding and event.ticket is ticket
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.number, stored.text, stored.route_state) == ("20261204990001", TRICKY, "pending")
    assert stored.created_at == ticket.created_at and stored.state == "registered"  # auto_now_add and defaults
    [stored_event] = TicketEvent.objects.filter(ticket=stored)
    assert stored_event.pk == event.pk and stored_event.data == {"channel": "phone", "raw": {"引号": TRICKY}}
    assert stored_event.created_at == event.created_at


@pytest.mark.django_db(transaction=True)  # autocommit, as an intake outside any transaction: nothing rolls back for it
@pytest.mark.parametrize("refused", ["too long for its column", "not JSON"])
def test_when_the_event_cannot_be_stored_the_ticket_is_not_stored_either(city: object, refused: str) -> None:
    if refused == "too long for its column" and connection.vendor != "postgresql":
        pytest.skip("SQLite does not check a column's length")
    ticket = _new_ticket("20261204990002")
    if refused == "not JSON":  # refused by the event's own field, after the ticket's row was prepared
        event = TicketEvent(ticket=ticket, actor_kind=ActorKind.USER, action="created", data={"seen": {1, 2}})
    else:  # refused by the database, in the statement that writes both rows
        event = TicketEvent(ticket=ticket, actor_kind=ActorKind.USER, action="x" * 41)
    before = Ticket.objects.count()
    with pytest.raises((DataError, TypeError)):
        objects_insert_linked(ticket, event, link="ticket")
    assert Ticket.objects.count() == before and not Ticket.objects.filter(number="20261204990002").exists()
