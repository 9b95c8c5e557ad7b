"""A caller's way through the call centre, one function per Twilio callback, in their real order:

incoming (`queue_enter`) → waitUrl (`queue_wait`) → the operator's leg asks what to dial
(`seat_leg_answer`) → bridge, the `<Queue url>` request (`queue_bridge`: 来电弹屏 to that operator
only) → the operator's `<Dial action>` (`seat_leg_ended`: 话后处理) → recording status callback
(`tickets.callcentre.services.recordings`) → the caller's `<Enqueue action>` (`queue_left`:
bridged, hung up in the queue → 未接来电回拨 with the wait, left → the speech/voicemail IVR).

Every function is idempotent for a repeated delivery (the webhook layer also replays stored
answers) and guarded (`UPDATE … WHERE outcome = …`), so two deliveries never count a call twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tickets.callcentre.models import CallRecording, Desk, QueuedCall, QueueOutcome, Seat, SeatState
from tickets.callcentre.services import live, seats
from tickets.callcentre.services.locking import queue_lock
from tickets.core.models import Ticket
from tickets.errors import NotFound, TransitionNotAllowed
from tickets.intake.models import Call, CallbackTask, MissedCallState
from tickets.intake.services import calls
from tickets.org.models import User

log = logging.getLogger("tickets.callcentre")

# Seats that count as "signed in" for a desk: a caller is queued only if one of them can come.
STAFFED = (SeatState.READY, SeatState.RINGING, SeatState.ON_CALL, SeatState.WRAP_UP)


def desk_for(*, to_number: str = "", digit: str = "") -> Desk:
    """The desk a caller reaches: the number called, else the key pressed, else the default."""
    desks = list(Desk.objects.all())
    if not desks:
        return Desk.objects.get_or_create(code="general", defaults={"name": "普通话综合", "is_default": True})[0]
    for desk in desks:
        if to_number and desk.called_number and desk.called_number == to_number:
            return desk
    for desk in desks:
        if digit and desk.digit == digit:
            return desk
    return next((d for d in desks if d.is_default), desks[0])


def desk_staffed(desk: Desk) -> bool:
    return Seat.objects.filter(skills=desk, state__in=STAFFED).exists()


@dataclass(frozen=True)
class Entry:
    """What the incoming webhook does with the call: queue it, or the IVR ("closed"/"overflow")."""

    route: str  # queue / closed / overflow
    desk: Desk | None
    queued: QueuedCall | None


@transaction.atomic
def queue_enter(*, call_sid: str, from_number: str, phone: str, to_number: str, status: str, digit: str = "") -> Entry:
    """The call arrives: outside service hours → IVR; no operator signed in for the desk → IVR
    (overflow); otherwise a waiting QueuedCall, and the assignment runs after the commit."""
    call, state = calls.call_incoming(
        call_sid=call_sid, from_number=from_number, phone=phone, to_number=to_number, status=status, announce=False
    )
    existing = QueuedCall.objects.filter(call=call).select_related("desk").first()
    if existing is not None:  # Twilio retried the incoming webhook
        return Entry("overflow" if existing.outcome == QueueOutcome.OVERFLOW else "queue", existing.desk, existing)
    if state == "closed":
        return Entry("closed", None, None)
    desk = desk_for(to_number=to_number, digit=digit)
    if state != "open" or not desk_staffed(desk):
        # offered to the human service within its hours and not answered: counted as overflow
        now = timezone.now()
        overflow = QueuedCall.objects.create(
            call=call, desk=desk, phone=phone, enqueued_at=now, outcome=QueueOutcome.OVERFLOW, ended_at=now,
            wait_seconds=0,
        )  # fmt: skip
        live.wallboard_changed()
        return Entry("overflow", desk, overflow)
    queued = QueuedCall.objects.create(call=call, desk=desk, phone=phone, enqueued_at=timezone.now())
    live.assign_after_commit()
    live.wallboard_changed()
    return Entry("queue", desk, queued)


@dataclass(frozen=True)
class Wait:
    position: int
    expected_seconds: int
    leave: bool  # overflow: no operator took the call within CALLCENTRE_OVERFLOW_SECONDS


def queue_wait(*, call_sid: str, position: int | None, queue_time: int, average: int | None) -> Wait:
    """waitUrl: what to tell the caller (position, expected wait) and whether to leave the queue."""
    queued = QueuedCall.objects.filter(call__call_sid=call_sid).first()
    position = max(1, position or 1)
    if queued is not None and queued.last_position != position:
        QueuedCall.objects.filter(pk=queued.pk).update(last_position=position)
    expected = average or position * 60  # no history yet: about a minute per caller ahead
    leave = queue_time >= settings.CALLCENTRE_OVERFLOW_SECONDS
    if queued is not None and not leave and queued.outcome == QueueOutcome.WAITING:
        leave = not desk_staffed(queued.desk)  # everybody signed off while the caller waited
    return Wait(position=position, expected_seconds=expected, leave=leave)


def _seat_of_leg(*, leg_sid: str = "", identity: str = "", seat_id: int | None = None) -> Seat | None:
    if seat_id is not None:
        return Seat.objects.select_for_update().filter(user_id=seat_id).first()
    if identity.startswith("client:seat-") and identity[12:].isdigit():
        return Seat.objects.select_for_update().filter(user_id=int(identity[12:])).first()
    if leg_sid:
        return Seat.objects.select_for_update(of=("self",)).select_related("user").filter(leg_call_sid=leg_sid).first()
    return None


@dataclass(frozen=True)
class Leg:
    """The operator's leg: which desk's queue to dial, or nothing (no caller waiting)."""

    seat: Seat | None
    desk: Desk | None
    queue_name: str = ""  # the desk's queue, or its transfer queue when the caller was transferred


def _leg(seat: Seat, queued: QueuedCall) -> Leg:
    name = queued.desk.transfer_queue_name if queued.transferred_at else queued.desk.queue_name
    return Leg(seat, queued.desk, name)


@transaction.atomic
def seat_leg_answer(*, leg_sid: str, seat_id: int | None = None, identity: str = "") -> Leg:
    """The operator's phone or softphone is up (our REST call, or the softphone dialled in): which
    queue it takes. The offered caller's desk, else the desk of the longest-waiting caller it may take."""
    queue_lock()
    seat = _seat_of_leg(seat_id=seat_id, identity=identity)
    if seat is None:
        return Leg(None, None)
    Seat.objects.filter(pk=seat.pk).update(leg_call_sid=leg_sid)
    seat.leg_call_sid = leg_sid
    offered = (
        QueuedCall.objects.filter(offered_to=seat, outcome=QueueOutcome.OFFERED)
        .select_related("desk")
        .order_by("enqueued_at")
        .first()
    )
    if offered is not None:
        QueuedCall.objects.filter(pk=offered.pk).update(offer_call_sid=offered.offer_call_sid or leg_sid)
        return _leg(seat, offered)
    waiting = (
        QueuedCall.objects.filter(outcome=QueueOutcome.WAITING, desk__in=seat.skills.all())
        .select_related("desk")
        .order_by("enqueued_at", "id")
        .first()
    )
    if waiting is None:
        if seat.state == SeatState.RINGING:  # rung for a caller who has gone meanwhile
            seats.seat_move(seat=seat, to=SeatState.READY, reason="没有排队来电", expect=SeatState.RINGING)
        return Leg(seat, None)
    if seat.state != SeatState.RINGING:
        seats.seat_move(seat=seat, to=SeatState.RINGING, reason="话务员主动接听")
    return _leg(seat, waiting)


@dataclass(frozen=True)
class Bridge:
    queued: QueuedCall
    operator: User | None


@transaction.atomic
def queue_bridge(*, call_sid: str, dequeuing_sid: str, queue_time: int | None) -> Bridge:
    """接通: Twilio dequeued `call_sid` for the operator's leg `dequeuing_sid`. The seat goes 通话中
    and, after the commit, that operator alone gets the caller's panel (来电弹屏)."""
    queue_lock()
    queued = (
        QueuedCall.objects.select_for_update(of=("self",))
        .select_related("call", "desk")
        .filter(call__call_sid=call_sid)
        .first()
    )
    if queued is None:
        raise NotFound("排队记录不存在")
    if queued.outcome == QueueOutcome.BRIDGED:  # a repeated delivery
        return Bridge(queued, queued.operator)
    seat = _seat_of_leg(leg_sid=dequeuing_sid)
    if seat is None:
        seat = (
            Seat.objects.select_for_update(of=("self",)).filter(offers__offer_call_sid=dequeuing_sid).first()
            if dequeuing_sid
            else None
        )
    now = timezone.now()
    wait = queue_time if queue_time is not None else int((now - queued.enqueued_at).total_seconds())
    if queued.transferred_at is not None and queued.wait_seconds is not None:
        wait = queued.wait_seconds  # the service level keeps the first answer (docs: transfers)
    operator = seat.user if seat is not None else None
    if seat is not None:  # registered first: the pop goes out before the wallboard's snapshot
        transaction.on_commit(lambda: live.caller_pop(queued), robust=True)
    _offers_settle(queued, seat, now)
    QueuedCall.objects.filter(pk=queued.pk).update(
        outcome=QueueOutcome.BRIDGED,
        operator=operator,
        operator_call_sid=dequeuing_sid or None,
        bridged_at=now,
        ended_at=now,
        wait_seconds=wait,
        offered_to=seat,
    )
    Call.objects.filter(pk=queued.call_id).update(answered_at=now)
    queued.outcome, queued.operator, queued.operator_call_sid = QueueOutcome.BRIDGED, operator, dequeuing_sid or None
    queued.bridged_at, queued.ended_at, queued.wait_seconds, queued.offered_to = now, now, wait, seat
    queued.call.answered_at = now
    if seat is not None:
        seats.seat_move(seat=seat, to=SeatState.ON_CALL, reason="接通来电")
    else:
        log.warning("bridge of %s by unknown leg %s: no operator to pop", call_sid, dequeuing_sid)
    live.wallboard_changed()
    return Bridge(queued, operator)


def _offers_settle(queued: QueuedCall, seat: Seat | None, now: datetime) -> None:
    """Twilio connects the head of the desk's queue, which need not be the caller our offer named.
    Offers were crosswise when the caller was offered to another seat: that seat still rings and
    will take the queue's next head, so it inherits the caller this seat had been offered (or the
    oldest one waiting); a caller offered to this seat and not inherited waits again."""
    mine = None
    if seat is not None and queued.offered_to_id != seat.pk:  # one offer per seat: this was it
        mine = (
            QueuedCall.objects.filter(offered_to=seat, outcome=QueueOutcome.OFFERED)
            .exclude(pk=queued.pk)
            .order_by("enqueued_at", "id")
            .first()
        )
    other_id = queued.offered_to_id if queued.offered_to_id != (seat.pk if seat else None) else None
    if other_id is not None:
        heir = mine or (
            QueuedCall.objects.filter(desk_id=queued.desk_id, outcome=QueueOutcome.WAITING)
            .order_by("enqueued_at", "id")
            .first()
        )
        if heir is not None:
            QueuedCall.objects.filter(pk=heir.pk).update(
                outcome=QueueOutcome.OFFERED, offered_to_id=other_id, offered_at=now, offer_call_sid=""
            )
            if heir is mine:
                mine = None
    if mine is not None:
        QueuedCall.objects.filter(pk=mine.pk).update(
            outcome=QueueOutcome.WAITING, offered_to=None, offered_at=None, offer_call_sid=""
        )
        live.assign_after_commit()


@transaction.atomic
def seat_leg_ended(*, leg_sid: str, status: str, duration: int | None, whole_call: bool = False) -> QueuedCall | None:
    """The operator's `<Dial>` ended: handle time; the seat goes 话后处理 (or back to 就绪 when no
    caller was bridged, e.g. the queue was empty). `whole_call`: the end of a three-way call, whose
    handle time runs from the bridge.

    The usual end, a bridged call's leg, takes no queue lock: the caller is bridged and the seat
    on the call, rows no offer or bridge touches any more, locked in the bridge's order (the
    queued call, then the seat). Only a leg that ended with nobody bridged hands offers back,
    and that waits for the queue lock like every other change of offers."""
    bridged = leg_sid and QueuedCall.objects.filter(operator_call_sid=leg_sid).exists()
    if not bridged:
        queue_lock()
    queued = QueuedCall.objects.select_for_update().filter(operator_call_sid=leg_sid).first() if leg_sid else None
    seat = _seat_of_leg(leg_sid=leg_sid)
    if whole_call and queued is not None and queued.bridged_at is not None:
        duration = int((timezone.now() - queued.bridged_at).total_seconds())
    if queued is not None and queued.handle_seconds is None and duration is not None:
        QueuedCall.objects.filter(pk=queued.pk).update(handle_seconds=duration, ended_at=timezone.now())
    if seat is not None:
        if queued is not None and seat.state == SeatState.ON_CALL:
            if settings.CALLCENTRE_WRAP_UP_SECONDS > 0:
                seats.seat_move(seat=seat, to=SeatState.WRAP_UP, reason="通话结束", expect=SeatState.ON_CALL)
            else:
                seats.seat_move(seat=seat, to=SeatState.READY, reason="通话结束", expect=SeatState.ON_CALL)
        elif queued is None and seat.state in (SeatState.RINGING, SeatState.ON_CALL):
            _offer_back(seat)
            seats.seat_move(seat=seat, to=SeatState.READY, reason="未接到来电")
    return queued


def _offer_back(seat: Seat) -> None:
    QueuedCall.objects.filter(offered_to=seat, outcome=QueueOutcome.OFFERED).update(
        outcome=QueueOutcome.WAITING, offered_to=None, offered_at=None, offer_call_sid=""
    )
    live.assign_after_commit()


@transaction.atomic
def seat_leg_status(*, leg_sid: str, seat_id: int | None, status: str) -> None:
    """Status of the call we placed to a seat: not answered (busy, no-answer, failed, canceled) →
    the caller is offered to the next operator and the seat goes 小休 (it did not pick up)."""
    queue_lock()
    if status not in ("busy", "no-answer", "failed", "canceled"):
        return
    seat = _seat_of_leg(seat_id=seat_id) if seat_id is not None else _seat_of_leg(leg_sid=leg_sid)
    if seat is None or seat.state != SeatState.RINGING:
        return
    _offer_back(seat)
    seats.seat_move(seat=seat, to=SeatState.BREAK, reason="座席未应答", expect=SeatState.RINGING)


ABANDONED = "hangup"
OVERFLOW_RESULTS = {"leave", "queue-full", "system-error", "error"}


@transaction.atomic
def queue_left(*, call_sid: str, result: str, queue_time: int | None) -> str:
    """`<Enqueue action>`: the caller left the queue. Returns "bridged", "abandoned", "overflow" or
    "unknown". A caller who hung up while waiting becomes a 未接来电回拨 task naming the wait.

    A bridged caller's leaving (every answered call ends so) changes nothing and takes no lock;
    the others wait for the queue lock, as they free an offer."""
    if result in ("bridged", "bridging-in-process"):
        return "bridged" if QueuedCall.objects.filter(call__call_sid=call_sid).exists() else "unknown"
    queue_lock()
    queued = (
        QueuedCall.objects.select_for_update(of=("self",))
        .select_related("call")
        .filter(call__call_sid=call_sid)
        .first()
    )
    if queued is None:
        return "unknown"
    now = timezone.now()
    wait = queue_time if queue_time is not None else int((now - queued.enqueued_at).total_seconds())
    if result in ("bridged", "bridging-in-process") or queued.outcome == QueueOutcome.BRIDGED:
        return "bridged"
    outcome = QueueOutcome.ABANDONED if result == ABANDONED else QueueOutcome.OVERFLOW
    if queued.transferred_at is not None:
        return _transfer_left(queued, result=result, now=now)
    if queued.outcome in (QueueOutcome.WAITING, QueueOutcome.OFFERED):
        QueuedCall.objects.filter(pk=queued.pk).update(outcome=outcome, ended_at=now, wait_seconds=wait)
        if queued.offered_to_id is not None:
            seat = Seat.objects.select_for_update().get(pk=queued.offered_to_id)
            if seat.state == SeatState.RINGING:
                seats.seat_move(seat=seat, to=SeatState.READY, reason="来电人已挂断")
        live.wallboard_changed()
    if outcome == QueueOutcome.ABANDONED and not queued.phone:
        return "abandoned"  # a withheld number: counted as lost, with no callback nobody could make
    if outcome == QueueOutcome.ABANDONED:
        reason = f"排队等待{wait}秒后挂断"
        task, created = CallbackTask.objects.get_or_create(
            call=queued.call, defaults={"phone": queued.phone, "reason": reason}
        )
        if not created and task.state == MissedCallState.OPEN and task.reason != reason:
            CallbackTask.objects.filter(pk=task.pk).update(reason=reason)
        return "abandoned"
    return "overflow"


def _transfer_left(queued: QueuedCall, *, result: str, now: datetime) -> str:
    """A transferred caller left the transfer queue without a second operator: the call stays
    answered (by the first operator, as the service levels count it); a hang-up still gets a
    未接来电回拨 task, since the matter was not finished."""
    if queued.outcome not in (QueueOutcome.WAITING, QueueOutcome.OFFERED):
        return "bridged"
    handover = queued.call.transfers.order_by("-id").first()
    QueuedCall.objects.filter(pk=queued.pk).update(
        outcome=QueueOutcome.BRIDGED, ended_at=now, handle_seconds=handover.talk_seconds if handover else 0
    )
    if queued.offered_to_id is not None:
        seat = Seat.objects.select_for_update().get(pk=queued.offered_to_id)
        if seat.state == SeatState.RINGING:
            seats.seat_move(seat=seat, to=SeatState.READY, reason="来电人已挂断")
    live.wallboard_changed()
    if result != ABANDONED:
        return "overflow"
    waited = int((now - queued.transferred_at).total_seconds()) if queued.transferred_at else 0
    CallbackTask.objects.get_or_create(
        call=queued.call, defaults={"phone": queued.phone, "reason": f"转接后排队等待{waited}秒挂断"}
    )
    return "abandoned"


def ticket_of_call(*, call_sid: str, user: User) -> Call:
    """The call an operator is on (only the operator it was bridged to, or a supervisor)."""
    queued = QueuedCall.objects.select_related("call").filter(call__call_sid=call_sid).first()
    if queued is None or not (queued.operator_id == user.pk or user.is_superuser or user.role == "supervisor"):
        raise NotFound("通话记录不存在")
    return queued.call


@transaction.atomic
def call_link_ticket(*, call_sid: str, ticket: Ticket, user: User) -> Call:
    """The ticket filed (or updated) during the call keeps the CallSid; recordings follow it."""
    call = ticket_of_call(call_sid=call_sid, user=user)
    if call.ticket_id not in (None, ticket.pk):
        raise TransitionNotAllowed("该通话已关联其他工单", rule="call_ticket")
    Call.objects.filter(pk=call.pk).update(ticket=ticket)
    CallRecording.objects.filter(call=call, ticket__isnull=True).update(ticket=ticket)
    call.ticket = ticket
    return call
