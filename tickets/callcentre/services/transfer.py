"""转接 and 三方通话 (GB/T 33358): what an operator does with the caller they are bridged to.

**Transfer to another desk** (`call_transfer`): our REST call gives the caller's leg new TwiML,
`<Enqueue>` into the target desk's *transfer queue* (`hotline-<code>-transfer`); the operator's
`<Dial>` ends with it (their `dial/` answers a hang-up) and the seat goes 话后处理. The caller's
`QueuedCall` moves to the desk, waiting again, marked `transferred_at`; a `CallTransfer` row keeps
who moved it from where, and the first operator's talk time.

Position rule (docs/callcentre.md): a transferred caller keeps their place by the time they first
called (`enqueued_at` is never reset), so the assignment — longest waiting first — offers them
before anyone who called later; on Twilio's side they wait in the desk's transfer queue, which a seat
offered a transferred caller dials, so they are not put behind the desk's queue. The service
levels keep the first answer (answered, and its wait): a transfer is not a second call offered.

**Three-way call** (`call_conference`): the caller's and the operator's legs are both given
`<Dial><Conference>hotline-3way-<caller CallSid></Conference></Dial>` (REST `calls(sid).update`),
and the unit's liaison (`Unit.liaison_phone`) is dialled into it with `calls.create`. The seat stays
通话中 until the operator's conference `<Dial>` ends (`dial/?conference=1`); the caller's hang-up
ends the conference, the operator may leave the caller with the liaison.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from twilio.base.exceptions import TwilioException
from twilio.twiml.voice_response import Dial, VoiceResponse

from tickets.callcentre.models import CallTransfer, CallTransferKind, Desk, QueuedCall, QueueOutcome, Seat, SeatState
from tickets.callcentre.services import live, queue, seats, twilio_rest
from tickets.callcentre.services.locking import queue_lock
from tickets.core.text import normalise_phone
from tickets.errors import InvalidInput, NotFound, TransitionNotAllowed
from tickets.org.models import Unit, User

log = logging.getLogger("tickets.callcentre")

LANG = "zh-CN"


def conference_name(caller_sid: str) -> str:
    return f"hotline-3way-{caller_sid}"


def transfer_twiml(*, desk: Desk, attempt: int) -> str:
    """The caller's new TwiML: said in Mandarin, then the target desk's transfer queue."""
    response = VoiceResponse()
    response.say(_("正在为您转接到%(desk)s，请稍候。") % {"desk": desk.name}, language=LANG)
    response.enqueue(
        desk.transfer_queue_name,
        action=twilio_rest.webhook_url(f"left/?transfer={attempt}"),
        method="POST",
        wait_url=twilio_rest.webhook_url(f"wait/?transfer={attempt}"),
        wait_url_method="POST",
    )
    return str(response)


def conference_twiml(*, caller_sid: str, role: str) -> str:
    """A leg's TwiML in the three-way call. role: caller (recorded; its hang-up ends the call),
    operator (its `<Dial action>` ends the seat's call), liaison."""
    response = VoiceResponse()
    if role == "caller":
        response.say(_("正在为您接通承办单位联络人，请稍候。"), language=LANG)
    elif role == "liaison":
        response.say(_("这里是12345政务服务便民热线，正在为您接入与来电人的三方通话。"), language=LANG)
    dial = Dial(action=twilio_rest.webhook_url("dial/?conference=1"), method="POST") if role == "operator" else Dial()
    options: dict[str, object] = {
        "start_conference_on_enter": True,
        "end_conference_on_exit": role == "caller",
        "beep": False,
    }
    if role == "caller":
        options.update(
            record="record-from-start",
            recording_status_callback=twilio_rest.webhook_url(f"recording/?call={caller_sid}"),
            recording_status_callback_method="POST",
        )
    dial.conference(conference_name(caller_sid), **options)
    response.append(dial)
    return str(response)


def _my_call(user: User) -> QueuedCall:
    rows = QueuedCall.objects.filter(operator=user, outcome=QueueOutcome.BRIDGED, handle_seconds__isnull=True)
    queued = rows.select_related("call", "desk").order_by("-bridged_at").first()
    if queued is None or not queued.operator_call_sid:
        raise NotFound(_("当前没有正在进行的通话"))
    return queued


def _active_conference(queued: QueuedCall) -> CallTransfer | None:
    return (
        CallTransfer.objects.filter(call_id=queued.call_id, kind=CallTransferKind.CONFERENCE, ended_at__isnull=True)
        .order_by("-id")
        .first()
    )


def _rest_ready() -> bool:
    """REST calls are made when Twilio is configured; the offline demo only moves the records."""
    if twilio_rest.configured():
        return True
    if settings.CALLCENTRE_DEMO:
        return False
    raise InvalidInput(_("未配置电话线路（呼叫中心账号），无法转接或发起三方通话"), field="twilio")


def _twilio_failed(exc: Exception) -> TransitionNotAllowed:
    log.warning("transfer: Twilio refused: %s", exc)
    return TransitionNotAllowed(_("电话平台未能完成操作，请稍后再试"), rule="twilio")


@dataclass(frozen=True)
class Moved:
    transfer: CallTransfer
    queued: QueuedCall


def call_transfer(*, user: User, desk_id: int | None) -> Moved:
    """转接: the caller I am bridged to goes to another desk's (transfer) queue; I go 话后处理."""
    desk = Desk.objects.filter(pk=desk_id).first() if desk_id else None
    if desk is None:
        raise InvalidInput(_("请选择要转接的专席"), field="desk")
    queued = _my_call(user)
    if desk.pk == queued.desk_id:
        raise InvalidInput(_("来电人已在该专席，无需转接"), field="desk")
    if not queue.desk_staffed(desk):
        raise TransitionNotAllowed(_("该专席暂无话务员在线，无法转接"), rule="desk_unstaffed")
    if _active_conference(queued) is not None:
        raise TransitionNotAllowed(_("三方通话中不能转接"), rule="conference_active")
    attempt = CallTransfer.objects.filter(call_id=queued.call_id, kind=CallTransferKind.TRANSFER).count() + 1
    if _rest_ready():
        try:  # before any write and outside the queue lock: Twilio may be slow or refuse
            twilio_rest.call_redirect(call_sid=queued.call.call_sid, twiml=transfer_twiml(desk=desk, attempt=attempt))
        except TwilioException as exc:
            raise _twilio_failed(exc) from exc
    with transaction.atomic():
        queue_lock()
        # Still mine and bridged. Twilio may already have posted my leg's dial/ (the redirect ends
        # my <Dial>), which set the handle time: read the row by id, not as "my current call".
        queued = QueuedCall.objects.select_for_update(of=("self",)).select_related("call", "desk").get(pk=queued.pk)
        if queued.operator_id != user.pk or queued.outcome != QueueOutcome.BRIDGED:
            raise TransitionNotAllowed(_("来电人已挂断，未能转接"), rule="call_ended")
        now = timezone.now()
        talk = queued.handle_seconds
        if talk is None and queued.bridged_at is not None:
            talk = int((now - queued.bridged_at).total_seconds())
        moved = CallTransfer.objects.create(
            call=queued.call, kind=CallTransferKind.TRANSFER, operator=user,
            leg_call_sid=queued.operator_call_sid or "", from_desk=queued.desk, to_desk=desk,
            talk_seconds=talk, created_at=now, ended_at=now,
        )  # fmt: skip
        QueuedCall.objects.filter(pk=queued.pk).update(
            desk=desk, outcome=QueueOutcome.WAITING, offered_to=None, offered_at=None, offer_call_sid="",
            operator_call_sid=None, transferred_at=now, last_position=None, handle_seconds=None,
        )  # fmt: skip
        seat = Seat.objects.select_for_update().get(user=user)
        to = SeatState.WRAP_UP if settings.CALLCENTRE_WRAP_UP_SECONDS > 0 else SeatState.READY
        seats.seat_move(seat=seat, to=to, reason="转接专席", now=now, expect=SeatState.ON_CALL)
        live.assign_after_commit()
        live.wallboard_changed()
    queued.refresh_from_db()
    return Moved(moved, queued)


def call_conference(*, user: User, unit_id: int | None) -> CallTransfer:
    """三方通话: the caller, me and the unit's liaison in one conference."""
    unit = Unit.objects.filter(pk=unit_id, is_active=True).first() if unit_id else None
    if unit is None:
        raise InvalidInput(_("请选择承办单位"), field="unit")
    if not unit.liaison_phone:
        raise InvalidInput(_("该单位未登记联络电话"), field="unit")
    try:
        liaison = normalise_phone(unit.liaison_phone, field="unit")
    except InvalidInput as exc:
        raise InvalidInput(_("该单位联络电话格式不正确"), field="unit") from exc
    queued = _my_call(user)
    caller_sid, leg_sid = queued.call.call_sid, queued.operator_call_sid or ""
    rest = _rest_ready()
    with transaction.atomic():
        # Written before Twilio is asked: the redirect ends the queue's <Dial> on my leg, and the
        # dial/ that Twilio may post then must find the conference to answer it (not a hang-up).
        queue_lock()
        if _active_conference(queued) is not None:
            raise TransitionNotAllowed(_("已在三方通话中"), rule="conference_active")
        joined = CallTransfer.objects.create(
            call=queued.call, kind=CallTransferKind.CONFERENCE, operator=user, leg_call_sid=leg_sid,
            from_desk=queued.desk, unit=unit, liaison_phone=liaison, conference=conference_name(caller_sid),
            created_at=timezone.now(),
        )  # fmt: skip
    if not rest:
        return joined
    try:
        twilio_rest.call_redirect(call_sid=caller_sid, twiml=conference_twiml(caller_sid=caller_sid, role="caller"))
        twilio_rest.call_redirect(call_sid=leg_sid, twiml=conference_twiml(caller_sid=caller_sid, role="operator"))
        joined.liaison_call_sid = twilio_rest.liaison_call_create(
            to=liaison, twiml=conference_twiml(caller_sid=caller_sid, role="liaison")
        )
    except TwilioException as exc:
        CallTransfer.objects.filter(pk=joined.pk).update(ended_at=timezone.now())
        raise _twilio_failed(exc) from exc
    CallTransfer.objects.filter(pk=joined.pk).update(liaison_call_sid=joined.liaison_call_sid)
    return joined


def conference_of_leg(leg_sid: str) -> CallTransfer | None:
    """The three-way call an operator's leg is in, if any (dial/ answers it instead of a hang-up)."""
    if not leg_sid:
        return None
    return (
        CallTransfer.objects.select_related("call")
        .filter(leg_call_sid=leg_sid, kind=CallTransferKind.CONFERENCE, ended_at__isnull=True)
        .order_by("-id")
        .first()
    )


def conference_of_caller(call_sid: str) -> CallTransfer | None:
    return (
        CallTransfer.objects.filter(call__call_sid=call_sid, kind=CallTransferKind.CONFERENCE, ended_at__isnull=True)
        .order_by("-id")
        .first()
    )


def conference_ended(*, leg_sid: str) -> CallTransfer | None:
    """The operator's conference `<Dial>` ended: the three-way call is over for the seat."""
    done = conference_of_leg(leg_sid)
    if done is not None:
        CallTransfer.objects.filter(pk=done.pk, ended_at__isnull=True).update(ended_at=timezone.now())
    return done
