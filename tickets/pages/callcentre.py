"""呼叫中心 pages: the seat panel on the console (state, softphone token, the caller bridged to me,
recent calls with recordings), the recording proxy, the supervisors' wallboard and service
levels, and the demo's 模拟来电 (posts the same signed webhooks in-process; demo mode only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from tickets.callcentre import selectors as cc_selectors
from tickets.callcentre.models import Desk, QueuedCall, QueueOutcome, SeatState
from tickets.callcentre.services import callbacks, queue, recordings, seats, transfer, twilio_rest
from tickets.core import privacy, selectors
from tickets.core.actors import Actor
from tickets.core.models import Ticket
from tickets.errors import DomainError, NotFound
from tickets.intake import selectors as intake_selectors
from tickets.intake.models import CallbackOutcome, CallbackTask, MissedCallState
from tickets.intake.services import calls
from tickets.metrics.selectors import period_range
from tickets.org.models import Role, Unit, User
from tickets.pages.callcentre_demo import simulate_step
from tickets.pages.common import (
    CENTRE_PAGE_ROLES,
    form_keep,
    post_only,
    posted_id,
    role_required,
    run_service,
)

BOARD_ROLES = (Role.SUPERVISOR, Role.ADMIN)


def _current_call(user: User) -> QueuedCall | None:
    return (
        QueuedCall.objects.filter(operator=user, outcome=QueueOutcome.BRIDGED, handle_seconds__isnull=True)
        .select_related("call", "desk")
        .order_by("-bridged_at")
        .first()
    )


def seat_context(request: HttpRequest) -> dict[str, Any]:
    """The seat panel's context (a console panel: tickets/pages/console.py PANELS["seat"])."""
    user: User = request.user  # type: ignore[assignment]
    seat = seats.seat_for(user)
    recent = list(
        QueuedCall.objects.filter(operator=user, outcome=QueueOutcome.BRIDGED)
        .select_related("call", "call__ticket")
        .prefetch_related("call__recordings")
        .order_by("-bridged_at")[:5]
    )
    current = _current_call(user)
    return {
        "seat": seat,
        "seat_states": [(s, lbl) for s, lbl in SeatState.choices if s in seats.CHOSEN],
        "desks": list(Desk.objects.all()),
        "callcentre_demo": settings.CALLCENTRE_DEMO,
        "current_call": current,
        "current_phone": privacy.phone_for(current.phone, user) if current else "",
        "current_conference": transfer.conference_of_caller(current.call.call_sid) if current else None,
        "liaison_units": list(
            Unit.objects.filter(is_active=True).exclude(liaison_phone="").only("id", "name", "liaison_name")[:200]
        ),
        "recent_calls": recent,
    }


@post_only
@role_required(*CENTRE_PAGE_ROLES)
def seat_state(request: HttpRequest) -> HttpResponse:
    """就绪 / 小休 / 离线 from the console; answers the re-rendered seat panel."""
    try:
        seats.seat_choose_state(user=request.user, state=request.POST.get("state", ""))  # type: ignore[arg-type]
    except DomainError as exc:
        context = {**seat_context(request), "seat_error": str(exc), "fragment": True}
        return render(request, "tickets/console/_seat.html", context, status=exc.status_code)
    return render(request, "tickets/console/_seat.html", {**seat_context(request), "fragment": True})


# 转接 and 三方通话 on the call I am on: (the posted field naming the target, the service, what the
# panel says when it is done). Routes `seat-transfer` and `seat-conference` pass `how`.
CALL_ACTIONS: dict[str, tuple[str, Callable[[User, int | None], object], Any]] = {
    "transfer": (
        "desk",
        lambda user, pk: transfer.call_transfer(user=user, desk_id=pk),
        gettext_lazy("已转接，来电人正在该专席排队"),
    ),
    "conference": (
        "unit",
        lambda user, pk: transfer.call_conference(user=user, unit_id=pk),
        gettext_lazy("正在呼叫承办单位联络人，接通后三方通话"),
    ),
}


@post_only
@role_required(*CENTRE_PAGE_ROLES)
def seat_call_action(request: HttpRequest, how: str) -> HttpResponse:
    """转接 (the caller goes to another desk's queue, ahead of its new arrivals) or 三方通话 (the
    caller, me and a unit's liaison in one conference); answers the re-rendered seat panel."""
    field, action, done = CALL_ACTIONS[how]
    try:
        action(request.user, posted_id(request.POST.get(field)))  # type: ignore[arg-type]
    except DomainError as exc:
        context = {**seat_context(request), "seat_error": str(exc), "fragment": True}
        return render(request, "tickets/console/_seat.html", context, status=exc.status_code)
    return render(request, "tickets/console/_seat.html", {**seat_context(request), "seat_note": done, "fragment": True})


@require_GET
@role_required(*CENTRE_PAGE_ROLES)
def seat_token(request: HttpRequest) -> JsonResponse:
    """The softphone's access token (VoiceGrant) for this operator's seat, short-lived."""
    seat = seats.seat_for(request.user)  # type: ignore[arg-type]
    token, expires = twilio_rest.voice_token(identity=seat.identity)
    return JsonResponse({"token": token, "identity": seat.identity, "expires": expires})


@require_GET
@role_required(*CENTRE_PAGE_ROLES)
def seat_call(request: HttpRequest) -> JsonResponse:
    """The call I am on now (a console that reloads mid-call shows the caller again)."""
    current = _current_call(request.user)  # type: ignore[arg-type]
    if current is None:
        return JsonResponse({"call": None})
    panel = cc_selectors.caller_panel(current)
    user: User = request.user  # type: ignore[assignment]
    phone = privacy.phone_for(panel["phone"], user)
    return JsonResponse(
        {
            "call": {
                "type": "call.bridged",
                "call_sid": panel["call_sid"],
                "desk": panel["desk"],
                "phone": phone,
                "phone_display": privacy.phone_display(phone),
                "wait_seconds": panel["wait_seconds"],
                "repeat_caller": panel["repeat_caller"],
                "opted_out": panel["opted_out"],
                "confidential_history": panel["confidential_history"],
                "history": [
                    {"id": t.pk, "number": t.number, "title": t.title, "state": t.get_state_display()}
                    for t in panel["tickets"]
                ],
            }
        }
    )


def call_link_from_form(request: HttpRequest, ticket: Ticket) -> None:
    """The new-ticket form carries the CallSid of the call it was filed in (set by seat.js)."""
    call_sid = request.POST.get("call_sid", "")[:64]
    if call_sid:
        queue.call_link_ticket(call_sid=call_sid, ticket=ticket, user=request.user)  # type: ignore[arg-type]


@post_only
@role_required(*CENTRE_PAGE_ROLES)
def seat_link(request: HttpRequest) -> JsonResponse:
    """关联本次来电: the call I am on joins an existing ticket of the caller (updated during the call)."""
    user: User = request.user  # type: ignore[assignment]
    ticket_id = posted_id(request.POST.get("ticket"))
    if ticket_id is None:
        return JsonResponse({"detail": _("请选择工单"), "field": "ticket"}, status=400)
    try:
        ticket = selectors.ticket_get(user, ticket_id)
        queue.call_link_ticket(call_sid=request.POST.get("call_sid", "")[:64], ticket=ticket, user=user)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    except DomainError as exc:
        return JsonResponse({"detail": str(exc), "rule": exc.rule}, status=exc.status_code)
    return JsonResponse({"ticket": ticket.number})


@post_only
@role_required(*CENTRE_PAGE_ROLES)
def callback_dial(request: HttpRequest, task_id: int) -> HttpResponse:
    """回拨 from the console: the seat rings, then the citizen is dialled from the hotline number."""
    run_service(
        request,
        lambda: callbacks.callback_dial(user=request.user, task_id=task_id),  # type: ignore[arg-type]
        _("正在回拨：请接听座席电话"),
    )
    return redirect("console")


CALLBACK_DONE_FIELDS = ("outcome", "note")


@post_only
@role_required(*CENTRE_PAGE_ROLES)
def callback_done(request: HttpRequest, task_id: int) -> HttpResponse:
    """登记回拨结果: a callback made without the phone line (calls.callback_outcome_record decides what the
    outcome does: 无人接听 keeps the task for another try)."""
    task = intake_selectors.callback_task_get(task_id=task_id)
    shown = privacy.phone_display(task.phone) or _("未显示号码")
    outcome = request.POST.get("outcome", "")

    def record() -> None:
        try:
            calls.callback_outcome_record(
                task=task,
                actor=Actor.of(request.user),  # type: ignore[arg-type]
                outcome=outcome,
                note=request.POST.get("note", ""),
            )
        except DomainError as exc:  # named with its number: the panel lists several callbacks
            named = f"{_('回拨')} {shown}：{_already_done(task) or exc.message}"
            raise type(exc)(named, rule=exc.rule, field=exc.field) from exc

    if outcome == CallbackOutcome.NO_ANSWER:
        success = _("已记录无人接听：%(phone)s，任务保留在待回拨列表，请稍后再拨") % {"phone": shown}
    else:
        success = _("已登记回拨结果：%(phone)s") % {"phone": shown}
    if not run_service(request, record, success):
        form_keep(request, where="console", action=f"callback-done:{task.pk}", names=CALLBACK_DONE_FIELDS)
    return redirect("console")


def _already_done(task: CallbackTask) -> str:
    """Why a task cannot be recorded again, with when (another operator, or the phone line, was first)."""
    task.refresh_from_db()
    if task.state == MissedCallState.DONE and task.done_at is not None:
        when = timezone.localtime(task.done_at).strftime("%m-%d %H:%M")
        return _("该回拨任务已于 %(when)s 登记为已回拨，无需重复登记") % {"when": when}
    if task.state == MissedCallState.DONE:
        return _("该回拨任务已登记为已回拨，无需重复登记")
    if task.state == MissedCallState.CANCELLED:
        return _("该回拨任务已取消（无需回拨）")
    return ""


@require_GET
@role_required(*CENTRE_PAGE_ROLES)
def recording_audio(request: HttpRequest, recording_id: int) -> HttpResponse:
    """收听录音 through the server (never a Twilio URL in the page); each listen is logged."""
    try:
        audio, content_type = recordings.recording_listen(user=request.user, recording_id=recording_id)  # type: ignore[arg-type]
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    except DomainError as exc:
        return HttpResponse(str(exc), status=403, content_type="text/plain; charset=utf-8")
    except LookupError:
        return HttpResponse(_("录音暂时无法获取，请稍后再试"), status=503, content_type="text/plain; charset=utf-8")
    response = HttpResponse(audio, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@role_required(*BOARD_ROLES)
def wallboard(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "tickets/board/callcentre.html",
        {
            "tab": "callcentre",
            "snapshot": cc_selectors.wallboard_snapshot(),
            "seat_rows": cc_selectors.seats_board(),
            "targets": {
                "answer_seconds": settings.CALLCENTRE_ANSWER_TARGET_SECONDS,
                "connection_rate": settings.CALLCENTRE_CONNECTION_TARGET,
            },
        },
    )


@require_GET
@role_required(*BOARD_ROLES)
def wallboard_data(request: HttpRequest) -> JsonResponse:
    """The wallboard's figures as JSON: snapshot, and service levels of ?period=day|month."""
    period = request.GET.get("period", "day")
    if period not in ("day", "month"):
        return JsonResponse({"detail": _("period 只能是 day 或 month"), "field": "period"}, status=400)
    first, last = period_range(period, timezone.localdate())
    start, end = cc_selectors.local_day_bounds(first)[0], cc_selectors.local_day_bounds(last)[1]
    return JsonResponse(
        {
            "period": period,
            "snapshot": cc_selectors.wallboard_snapshot(),
            "levels": cc_selectors.service_levels(start=start, end=end),
        }
    )


@post_only
@role_required(*CENTRE_PAGE_ROLES)
def simulate_call(request: HttpRequest, step: str) -> HttpResponse:
    """模拟来电 (demo only): ring / answer / hangup / abandon, as Twilio would post them."""
    if not settings.CALLCENTRE_DEMO or settings.HOTLINE_PRODUCTION:
        raise Http404(_("演示功能未开启"))
    user: User = request.user  # type: ignore[assignment]
    try:
        note = simulate_step(request=request, user=user, step=step, phone=request.POST.get("phone", ""))
    except ValueError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    context = {**seat_context(request), "seat_note": note, "fragment": True}
    return render(request, "tickets/console/_seat.html", context)
