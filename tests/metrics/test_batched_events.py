"""Scorecard facts of a batched intake: the same sums as event by event, rolled-back events excluded."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.db.models import Sum

from tickets.core.actors import Actor
from tickets.core.services.events import event_record, events_batched
from tickets.intake.services import intake
from tickets.metrics.models import UnitDayStats, UnitMonthStats
from tickets.org.models import Unit, User

pytestmark = pytest.mark.django_db


def _accepted(model: type[UnitDayStats] | type[UnitMonthStats], unit: Unit) -> int:
    return int(model.objects.filter(unit=unit).aggregate(n=Sum("accepted"))["n"] or 0)


def test_a_batch_counts_each_surviving_event_once_and_skips_a_rolled_back_savepoint(city: object) -> None:
    centre = Unit.objects.get(kind="centre")
    actor = Actor.of(User.objects.get(username="operator1"))
    day0, month0 = _accepted(UnitDayStats, centre), _accepted(UnitMonthStats, centre)

    with transaction.atomic(), events_batched():
        ticket = intake.ticket_create(actor=actor, channel="phone", text="楼道灯坏了好几天", auto_route=False)
        with pytest.raises(RuntimeError), transaction.atomic():  # this event is rolled back
            event_record(ticket=ticket, actor=actor, action="created", to_state="registered")
            raise RuntimeError("operation failed")
        event_record(ticket=ticket, actor=actor, action="created", to_state="registered")
        assert _accepted(UnitDayStats, centre) == day0  # nothing written before the block ends

    assert _accepted(UnitDayStats, centre) == day0 + 2  # the ticket's own `created` + the surviving one
    assert _accepted(UnitMonthStats, centre) == month0 + 2


def test_an_intake_counts_the_same_as_event_by_event(city: object) -> None:
    centre = Unit.objects.get(kind="centre")
    actor = Actor.of(User.objects.get(username="operator1"))
    before = _accepted(UnitDayStats, centre)
    intake.ticket_create(actor=actor, channel="phone", text="小区门口垃圾好几天没人清运", auto_route=False)
    event_record(
        ticket=intake.ticket_create(actor=actor, channel="phone", text="噪音扰民", auto_route=False, draft=True),
        actor=actor,
        action="complete_draft",
        to_state="registered",
    )  # outside any batch: counted at once, as before
    assert _accepted(UnitDayStats, centre) == before + 2
