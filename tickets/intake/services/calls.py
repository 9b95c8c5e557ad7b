"""电话受理: incoming calls become draft tickets; missed calls become callback tasks (未接来电回拨)."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from channels_app import broadcast
from tickets.core.actors import Actor
from tickets.core.models import Channel, Kind, Ticket
from tickets.core.states import OPEN_TICKET_STATES
from tickets.core.text import text_optional
from tickets.errors import InvalidInput, NotFound, TransitionNotAllowed
from tickets.intake.models import Call, CallbackOutcome, CallbackTask, MissedCallState, PhoneLine
from tickets.intake.services import intake
from tickets.org.models import User
from tickets.sla.services import policy

log = logging.getLogger("tickets.calls")

KIND_DIGITS = {"1": Kind.CONSULT, "2": Kind.HELP, "3": Kind.COMPLAINT, "4": Kind.REPORT, "5": Kind.SUGGESTION}
# Spoken choices, longest match first: "投诉举报" is a complaint, "我要举报" a report.
KIND_WORDS = [
    ("投诉", Kind.COMPLAINT),
    ("举报", Kind.REPORT),
    ("咨询", Kind.CONSULT),
    ("求助", Kind.HELP),
    ("建议", Kind.SUGGESTION),
]
MISSED_STATUSES = {"busy": "占线未接", "no-answer": "无人接听", "failed": "呼叫失败", "canceled": "来电人挂断"}
TERMINAL_STATUSES = {"completed", *MISSED_STATUSES}
RECORDING_TEXT = "【电话留言】请收听录音后补全诉求内容。"


def kind_from(*, digits: str = "", speech: str = "") -> str:
    """The kind the caller chose by key or by voice; "" when neither says it."""
    if digits[:1] in KIND_DIGITS:
        return KIND_DIGITS[digits[:1]]
    for word, kind in KIND_WORDS:
        if word in speech:
            return kind
    return ""


# --- the line: service hours and free seats ------------------------------------------------


def _within(now_local: time, opens: time, closes: time) -> bool:
    if opens <= closes:
        return opens <= now_local < closes
    return now_local >= opens or now_local < closes  # a night shift across midnight


def line_state(*, now: datetime | None = None, exclude: Call | None = None) -> str:
    """ "open", "closed" (outside service hours) or "busy" (every seat taken)."""
    now = now or timezone.now()
    line = PhoneLine.objects.filter(profile=policy.active_profile()).first()
    if line is None:
        return "open"
    if line.opens_at and line.closes_at and not _within(timezone.localtime(now).time(), line.opens_at, line.closes_at):
        return "closed"
    if line.seats:
        active = Call.objects.filter(ended_at__isnull=True, after_hours=False, started_at__gte=now - timedelta(hours=2))
        if exclude is not None:
            active = active.exclude(pk=exclude.pk)
        if active.count() >= line.seats:
            return "busy"
    return "open"


# --- the call's life -------------------------------------------------------------------------


@transaction.atomic
def call_incoming(
    *, call_sid: str, from_number: str, phone: str, to_number: str, status: str, announce: bool = True
) -> tuple[Call, str]:
    """A call arrives: keep it, decide whether operators can take it, tell the console who calls.

    `announce=False`: the call centre queues it and pops the caller to the one operator bridged
    to it (tickets/callcentre), so no ring goes to every console."""
    call, created = Call.objects.get_or_create(
        call_sid=call_sid,
        defaults={"from_number": from_number, "phone": phone, "to_number": to_number, "status": status or "ringing"},
    )
    state = line_state(exclude=call)
    if created and state != "open":
        Call.objects.filter(pk=call.pk).update(after_hours=True)
        call.after_hours = True
    if created and announce:
        transaction.on_commit(lambda: call_announce(call), robust=True)
    return call, state


def _call(call_sid: str) -> Call:
    call = Call.objects.select_for_update().filter(call_sid=call_sid).first()
    if call is None:
        raise NotFound("通话记录不存在")
    return call


@transaction.atomic
def call_speech(*, call_sid: str, speech: str, confidence: float | None, kind: str, raw: dict[str, Any]) -> Ticket:
    """The caller described the matter: a draft ticket (or more text on the call's draft)."""
    call = _call(call_sid)
    fields = {"speech_result": speech, "confidence": confidence, "kind": kind or call.kind}
    Call.objects.filter(pk=call.pk).update(**fields)
    if call.ticket is not None:
        return intake.ticket_append_message(
            ticket=call.ticket, text=speech, actor=Actor.system("twilio-voice"), raw=raw
        )
    ticket = intake.ticket_create(
        actor=Actor.system("twilio-voice"),
        channel=Channel.PHONE,
        text=intake.message_text(speech),
        kind=kind or call.kind or Kind.HELP,
        citizen_phone=call.phone,
        draft=True,
        external_ref=call.call_sid,
        raw={**raw, "speech_confidence": confidence},
    )
    Call.objects.filter(pk=call.pk).update(ticket=ticket)
    return ticket


@transaction.atomic
def call_set_kind(*, call_sid: str, kind: str) -> None:
    Call.objects.filter(call_sid=call_sid).update(kind=kind)


@transaction.atomic
def call_recording(*, call_sid: str, recording_url: str, recording_sid: str, raw: dict[str, Any]) -> Ticket | None:
    """A voicemail (留言): a draft ticket pointing at the recording. Repeated callbacks change nothing."""
    call = _call(call_sid)
    if not recording_url:
        return call.ticket
    Call.objects.filter(pk=call.pk).update(recording_url=recording_url[:500], recording_sid=recording_sid)
    ticket = call.ticket
    if ticket is None:
        ticket = intake.ticket_create(
            actor=Actor.system("twilio-voice"),
            channel=Channel.PHONE,
            text=RECORDING_TEXT,
            kind=call.kind or Kind.HELP,
            citizen_phone=call.phone,
            draft=True,
            external_ref=call.call_sid,
            raw={**raw, "recording_url": recording_url},
        )
        Call.objects.filter(pk=call.pk).update(ticket=ticket)
    # The caller left a message after all: no need to call back.
    CallbackTask.objects.filter(call=call, state=MissedCallState.OPEN).update(
        state=MissedCallState.CANCELLED, note=f"来电人已留言，见工单{ticket.number}", done_at=timezone.now()
    )
    return ticket


@transaction.atomic
def call_status(
    *, call_sid: str, status: str, duration: int | None, from_number: str = "", phone: str = "", to_number: str = ""
) -> Call:
    """Record the call's status; a missed or abandoned call becomes a callback task."""
    call = Call.objects.select_for_update().filter(call_sid=call_sid).first()
    if call is None:  # a status for a call we never answered (e.g. the voice URL failed)
        call = Call.objects.create(call_sid=call_sid, from_number=from_number, phone=phone, to_number=to_number)
    history = [*call.status_history, {"status": status, "at": timezone.now().isoformat(), "duration": duration}]
    fields: dict[str, Any] = {"status": status, "status_history": history}
    if duration is not None:
        fields["duration_seconds"] = duration
    if status in TERMINAL_STATUSES and call.ended_at is None:
        fields["ended_at"] = timezone.now()
    Call.objects.filter(pk=call.pk).update(**fields)
    for name, value in fields.items():
        setattr(call, name, value)
    if status in TERMINAL_STATUSES:
        _callback_if_missed(call, status)
    return call


def _callback_if_missed(call: Call, status: str) -> None:
    if call.ticket_id is not None or call.recording_url or call.answered_at is not None:
        return
    if not call.phone:  # a withheld number: nobody can call it back (the missed call stays counted)
        return
    reason = MISSED_STATUSES.get(status) or ("非服务时间未留言" if call.after_hours else "来电人未留下诉求即挂断")
    CallbackTask.objects.get_or_create(call=call, defaults={"phone": call.phone, "reason": reason})


@transaction.atomic
def callback_done(*, task: CallbackTask, actor: Actor, note: str = "") -> CallbackTask:
    """The citizen was reached (or cannot be): the task closes; earlier unanswered tries stay in its note."""
    actor.require_role("operator", "dispatcher", "supervisor")
    note = text_optional(note, field="note", label="回拨记录")
    locked = _callback_open_locked(task)
    CallbackTask.objects.filter(pk=locked.pk).update(
        state=MissedCallState.DONE, done_at=timezone.now(), done_by=actor.user, note=_note_add(locked.note, note)
    )
    task.refresh_from_db()
    return task


@transaction.atomic
def callback_outcome_record(*, task: CallbackTask, actor: Actor, outcome: str, note: str = "") -> CallbackTask:
    """登记回拨结果 for a callback made by hand (a desk phone, or no phone line). 已联系上 and 号码有误
    close the task with the outcome heading the note; 无人接听 is a try, as an unanswered callback
    through the phone line is: written on the task (with when), which stays open for the next one."""
    actor.require_role("operator", "dispatcher", "supervisor")
    if outcome not in CallbackOutcome.values:
        raise InvalidInput("请选择回拨结果", field="outcome")
    label = CallbackOutcome(outcome).label
    # The note's own limit leaves room for the outcome heading it.
    note = text_optional(note, field="note", label="回拨记录", max_length=settings.REASON_MAX - len(label) - 13)
    line = f"{label}：{note}" if note else str(label)
    if outcome != CallbackOutcome.NO_ANSWER:
        return callback_done(task=task, actor=actor, note=line)
    locked = _callback_open_locked(task)
    tried = f"{timezone.localtime().strftime('%m-%d %H:%M')} {line}"
    CallbackTask.objects.filter(pk=locked.pk).update(note=_note_add(locked.note, tried))
    task.refresh_from_db()
    return task


def _callback_open_locked(task: CallbackTask) -> CallbackTask:
    locked = CallbackTask.objects.select_for_update().filter(pk=task.pk).first()
    if locked is None or locked.state != MissedCallState.OPEN:
        raise TransitionNotAllowed("该回拨任务已处理", rule="callback_done")
    return locked


def _note_add(earlier: str, line: str) -> str:
    return "\n".join(part for part in (earlier, line) if part)


# --- the operators' console ------------------------------------------------------------------


def history_for_phone(phone: str, *, limit: int = 20) -> list[Ticket]:
    """Earlier tickets from a number, open ones first, newest first within each."""
    if not phone:
        return []
    found = list(Ticket.objects.filter(citizen_phone=phone).order_by("-id")[:limit])
    return sorted(found, key=lambda t: (t.state not in OPEN_TICKET_STATES, -t.pk))


def history_payload(tickets: list[Ticket]) -> list[dict[str, Any]]:
    return [
        {
            "id": t.pk,
            "number": t.number,
            "state": t.state,
            "state_label": t.get_state_display(),
            "kind": t.kind,
            "title": t.title,
            "is_open": t.state in OPEN_TICKET_STATES,
            "created_at": t.created_at.isoformat(),
        }
        for t in tickets
    ]


def call_announce(call: Call) -> dict[str, Any]:
    """来电弹屏: tell the operators' console who is calling, with the caller's history.

    Pushed through the live feed (`channels_app.broadcast.broadcast_call_incoming`); a live
    layer that cannot be reached is logged there and never holds up Twilio's answer.
    """
    tickets = history_for_phone(call.phone)
    payload: dict[str, Any] = {
        "type": "call.incoming",
        "call_sid": call.call_sid,
        "phone": call.phone,
        "after_hours": call.after_hours,
        "history": history_payload(tickets),
    }
    push = getattr(broadcast, "broadcast_call_incoming", None)
    if callable(push):
        payload["pushed"] = push(call.call_sid, call.phone, tickets)
    else:
        log.info("incoming call %s from %s (%d earlier tickets)", call.call_sid, call.phone, len(tickets))
    return payload


def caller_history(*, user: User, call_sid: str) -> tuple[Call, list[Ticket]]:
    if not user.is_centre:
        raise NotFound("通话记录不存在")
    call = Call.objects.filter(call_sid=call_sid).first()
    if call is None:
        raise NotFound("通话记录不存在")
    return call, history_for_phone(call.phone)
