"""未接来电回拨 from the console: ring the operator's seat, then dial the citizen from the hotline
number (recorded like any call). A connected callback closes the task; the attempt, with its own
call record, stays either way."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from tickets.callcentre.models import CallbackAttempt
from tickets.callcentre.services import seats, twilio_rest
from tickets.core.actors import Actor
from tickets.errors import InvalidInput, NotFound, TransitionNotAllowed
from tickets.intake.models import Call, CallbackTask, MissedCallState
from tickets.intake.services import calls
from tickets.org.models import User


def callback_dial(*, user: User, task_id: int) -> CallbackAttempt:
    """Start a callback: our REST call rings the operator's seat; `callback/` then dials the citizen."""
    Actor.of(user).require_role("operator", "dispatcher", "supervisor")
    task = CallbackTask.objects.filter(pk=task_id).first()
    if task is None:
        raise NotFound("回拨任务不存在")
    if task.state != MissedCallState.OPEN:
        raise TransitionNotAllowed("该回拨任务已处理", rule="callback_done")
    if not task.phone:
        raise InvalidInput("来电未显示号码，无法回拨", field="phone")
    if not twilio_rest.configured():
        raise InvalidInput("未配置电话线路（呼叫中心账号），无法外呼回拨", field="twilio")
    seat = seats.seat_for(user)
    sid = twilio_rest.seat_call_create(
        target=twilio_rest.seat_target(seat), seat_user_id=user.pk, path=f"callback/?task={task.pk}"
    )
    with transaction.atomic():
        call = Call.objects.create(
            call_sid=sid,
            from_number=settings.TWILIO_FROM_NUMBER,
            phone=task.phone,
            to_number=task.phone,
            status="queued",
        )
        return CallbackAttempt.objects.create(task=task, call=call, operator=user)


def callback_leg(*, leg_sid: str, task_id: int) -> str | None:
    """The operator picked up: the number to dial (None: no such attempt, or already done)."""
    attempt = CallbackAttempt.objects.select_related("task").filter(call__call_sid=leg_sid, task_id=task_id).first()
    if attempt is None or attempt.task.state != MissedCallState.OPEN:
        return None
    return attempt.task.phone


@transaction.atomic
def callback_ended(*, leg_sid: str, status: str, duration: int | None) -> CallbackAttempt | None:
    """The callback's `<Dial>` ended: answered (completed with talk time) closes the task."""
    attempt = (
        CallbackAttempt.objects.select_for_update()
        .select_related("task", "operator")
        .filter(call__call_sid=leg_sid)
        .first()
    )
    if attempt is None or attempt.outcome:
        return attempt
    CallbackAttempt.objects.filter(pk=attempt.pk).update(outcome=status[:20], talk_seconds=duration)
    attempt.outcome, attempt.talk_seconds = status, duration
    if status == "completed" and attempt.task.state == MissedCallState.OPEN:
        calls.callback_done(
            task=attempt.task, actor=Actor.of(attempt.operator), note=f"话务台回拨已接通，通话{duration or 0}秒"
        )
    return attempt
