"""座席状态: 就绪 / 振铃中 / 通话中 / 话后处理 / 小休 / 离线, each change a SeatStateChange row.

The operator sets 就绪, 小休 and 离线 from the console; the call sets 振铃中 (an offer), 通话中
(the bridge) and 话后处理 (after the hang-up, CALLCENTRE_WRAP_UP_SECONDS, then 就绪 again). A
seat that becomes ready asks the assignment for the next caller, after the commit."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tickets.callcentre.models import Desk, Seat, SeatState, SeatStateChange
from tickets.callcentre.services import live
from tickets.errors import InvalidInput, TransitionNotAllowed
from tickets.org.models import User

# What an operator may choose by hand, and from which states (the call owns the others).
CHOSEN = {SeatState.READY, SeatState.BREAK, SeatState.OFFLINE}
CHOOSABLE_FROM = {SeatState.OFFLINE, SeatState.READY, SeatState.BREAK, SeatState.WRAP_UP}


def seat_for(user: User) -> Seat:
    """The user's seat, made on first use (offline, skilled for the default desk)."""
    seat = Seat.objects.filter(user=user).first()
    if seat is not None:
        return seat
    with transaction.atomic():
        seat, created = Seat.objects.get_or_create(user=user, defaults={"state_since": timezone.now()})
        if created:
            seat.skills.set(Desk.objects.filter(is_default=True))
    return seat


def seat_move(*, seat: Seat, to: str, reason: str, now: datetime | None = None, expect: str | None = None) -> bool:
    """Move a seat to `to` (guarded: only from `expect` when given); one history row. True if moved."""
    now = now or timezone.now()
    rows = Seat.objects.filter(pk=seat.pk)
    if expect is not None:
        rows = rows.filter(state=expect)
    fields: dict[str, object] = {"state": to, "state_since": now}
    if to == SeatState.WRAP_UP:
        fields["wrap_up_until"] = now + timedelta(seconds=settings.CALLCENTRE_WRAP_UP_SECONDS)
    elif to != SeatState.ON_CALL:
        fields["wrap_up_until"] = None
    if to in (SeatState.READY, SeatState.OFFLINE, SeatState.BREAK):
        fields["leg_call_sid"] = ""
    if not rows.update(**fields):
        return False
    for name, value in fields.items():
        setattr(seat, name, value)
    SeatStateChange.objects.create(seat=seat, state=to, at=now, reason=reason[:64])
    live.wallboard_changed()
    if to == SeatState.READY:
        live.assign_after_commit()
    return True


@transaction.atomic
def seat_choose_state(*, user: User, state: str) -> Seat:
    """From the console: 就绪, 小休 or 离线. Refused while a call rings or is up (409)."""
    if state not in CHOSEN:
        raise InvalidInput("座席状态只能选择就绪、小休或离线", field="state")
    seat = Seat.objects.select_for_update().get(pk=seat_for(user).pk)
    if seat.state == state:
        return seat
    if seat.state not in CHOOSABLE_FROM:
        raise TransitionNotAllowed("通话中或振铃中不能切换状态", rule="seat_state")
    seat_move(seat=seat, to=state, reason="话务员设置", expect=seat.state)
    return seat


def seats_wrap_up_end(*, now: datetime | None = None) -> int:
    """话后处理 over: back to 就绪 (the sweep and the assignment call it)."""
    now = now or timezone.now()
    done = 0
    for seat in Seat.objects.filter(state=SeatState.WRAP_UP, wrap_up_until__lte=now):
        done += seat_move(seat=seat, to=SeatState.READY, reason="话后处理结束", now=now, expect=SeatState.WRAP_UP)
    return done
