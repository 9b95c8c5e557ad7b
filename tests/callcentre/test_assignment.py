"""The fair assignment with a backlog: the longest-waiting caller a seat may take, however many
callers for other desks wait before them (the pass reads the backlog a few rows at a time)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from tickets.callcentre.models import Desk, QueuedCall, QueueOutcome, Seat, SeatState
from tickets.callcentre.services import assignment
from tickets.intake.models import Call


def test_each_ready_seat_gets_the_oldest_caller_of_its_desk_behind_a_backlog_of_another(
    city: Any, user: Any, ready: Any
) -> None:
    general = Desk.objects.get(code="general")
    enterprise = Desk.objects.create(code="enterprise", name="企业专席", digit="1")
    # both seats ready before anyone calls (becoming ready runs a pass of its own)
    general_only, enterprise_only = ready("operator1"), ready("operator2")
    Seat.objects.get(user=general_only).skills.set([general])
    Seat.objects.get(user=enterprise_only).skills.set([enterprise])
    start = timezone.now() - timedelta(minutes=30)
    queued = {}
    # 30 callers for the general desk, then two for the enterprise desk (the older one first)
    for n, desk in enumerate([general] * 30 + [enterprise] * 2):
        call = Call.objects.create(call_sid=f"CA{n:032d}", phone=f"+86138{n:08d}")
        queued[n] = QueuedCall.objects.create(call=call, desk=desk, enqueued_at=start + timedelta(seconds=n))

    offers = {offer.user_id: offer.queued_id for offer in assignment.queue_assign()}

    assert offers == {general_only.pk: queued[0].pk, enterprise_only.pk: queued[30].pk}
    assert set(QueuedCall.objects.filter(outcome=QueueOutcome.OFFERED).values_list("pk", flat=True)) == {
        queued[0].pk,
        queued[30].pk,
    }
    assert set(Seat.objects.values_list("state", flat=True).filter(user__in=[general_only, enterprise_only])) == {
        SeatState.RINGING
    }
