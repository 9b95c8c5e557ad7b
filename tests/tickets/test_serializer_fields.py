"""Serializer fields are built once per class (tickets.core.apis.base.FieldsOncePerClass); each
instance still reads with its own reader, so two answers in flight never mix their privacy."""

from __future__ import annotations

from types import SimpleNamespace

from tests.tickets.helpers import dispatched, staff
from tickets.core.apis.outputs import TicketDetailOutput
from tickets.intake.apis.tickets import TicketCreateInput
from tickets.org.models import Unit, User


def test_two_readers_serialised_side_by_side_each_see_only_what_they_may(units: dict[str, Unit]) -> None:
    ticket, _ = dispatched(units["rsj"], phone="13812341234")
    operator = User.objects.get(username="operator1")
    outsider = staff(units["zjj"])  # another unit: the number masked
    for_operator = TicketDetailOutput(ticket, context={"request": SimpleNamespace(user=operator)})
    for_unit = TicketDetailOutput(ticket, context={"request": SimpleNamespace(user=outsider)})
    assert for_operator.fields["citizen_phone"] is not for_unit.fields["citizen_phone"]  # both bound first

    assert for_operator.data["citizen_phone"] == "+8613812341234"
    assert for_unit.data["citizen_phone"] != "+8613812341234"
    assert for_unit.data["phone_masked"] is True
    assert for_unit.data["category"] == for_operator.data["category"]  # nested fields answer alike


def test_changing_one_instances_field_leaves_the_next_instance_alone(db: None) -> None:
    first = TicketCreateInput(data={"channel": "sms"})
    first.fields["text"].required = False
    assert first.is_valid(), first.errors

    second = TicketCreateInput(data={"channel": "sms"})
    assert not second.is_valid()
    assert "text" in second.errors  # still required
