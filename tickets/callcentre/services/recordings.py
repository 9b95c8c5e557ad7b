"""Recordings of bridged calls: stored from Twilio's status callback, joined to the call's ticket,
listened to through the authenticated proxy (an audited act, like a reveal), purged after the
retention period (CALLCENTRE_RECORDING_RETENTION_DAYS)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tickets.callcentre.models import CallRecording, CallTransfer, QueuedCall
from tickets.callcentre.services import twilio_rest
from tickets.core import privacy
from tickets.core.models import AccessAction, Ticket, TicketAccessLog
from tickets.errors import NotFound, NotPermitted
from tickets.intake.models import Call
from tickets.org.models import User

log = logging.getLogger("tickets.callcentre")

DEMO_PREFIX = "demo:"  # the simulated calls' placeholder recordings: a second of silence


@transaction.atomic
def recording_stored(
    *, leg_sid: str, recording_sid: str, url: str, duration: int | None, status: str
) -> CallRecording | None:
    """Recording status callback (`completed`): keep the sid, url and duration on the call, and on
    its ticket when one was filed during the call (or when it is filed later)."""
    if status and status != "completed":
        return None
    queued = QueuedCall.objects.filter(operator_call_sid=leg_sid).select_related("call").first()
    call = queued.call if queued is not None else Call.objects.filter(call_sid=leg_sid).first()
    if call is None:  # the leg of an operator who transferred the caller (its recording ends then)
        handover = CallTransfer.objects.select_related("call").filter(leg_call_sid=leg_sid).order_by("-id").first()
        call = handover.call if handover is not None else None
    if call is None:
        log.warning("recording %s for an unknown leg %s", recording_sid, leg_sid)
        return None
    recording, _ = CallRecording.objects.get_or_create(
        recording_sid=recording_sid,
        defaults={
            "call": call,
            "ticket_id": call.ticket_id,
            "url": url[:500],
            "duration_seconds": duration,
            "status": status,
        },
    )
    return recording


def recording_for(*, user: User, recording_id: int) -> CallRecording:
    """A recording the reader may hear: the centre's staff; the ticket's 保密/匿名 rule as for a
    reveal. Others get 404 (the recording does not exist for them)."""
    recording = CallRecording.objects.select_related("ticket", "call", "call__ticket").filter(pk=recording_id).first()
    if recording is None or recording.purged_at is not None or not privacy.sees_contact(user):
        raise NotFound("录音不存在或已过保存期限")
    ticket = recording_ticket(recording)
    if ticket is not None and not privacy.may_reveal(ticket, user):
        raise NotPermitted("无权收听该录音", rule="confidential")
    return recording


def recording_ticket(recording: CallRecording) -> Ticket | None:
    """The ticket a recording belongs to: its own, or its call's (a recording stored before the call
    was linked follows the call, as on the ticket page)."""
    return recording.ticket if recording.ticket_id is not None else recording.call.ticket


def recording_listen(*, user: User, recording_id: int) -> tuple[bytes, str]:
    """收听录音: the audio, and a TicketAccessLog row saying who listened (before the bytes go out)."""
    recording = recording_for(user=user, recording_id=recording_id)
    TicketAccessLog.objects.create(
        ticket=recording_ticket(recording),
        user=user,
        action=AccessAction.LISTEN,
        detail={"via": "recording", "recording": recording.recording_sid, "call": recording.call.call_sid},
    )
    if recording.url.startswith(DEMO_PREFIX):
        return silence_wav(), "audio/wav"
    return twilio_rest.recording_fetch(recording.url)


def silence_wav(seconds: float = 1.0, rate: int = 8000) -> bytes:
    frames = int(seconds * rate)
    data = b"\x80" * frames  # 8-bit unsigned PCM silence
    header = b"RIFF" + (36 + frames).to_bytes(4, "little") + b"WAVEfmt "
    header += (16).to_bytes(4, "little") + (1).to_bytes(2, "little") + (1).to_bytes(2, "little")
    header += rate.to_bytes(4, "little") + rate.to_bytes(4, "little") + (1).to_bytes(2, "little")
    header += (8).to_bytes(2, "little") + b"data" + frames.to_bytes(4, "little")
    return header + data


def recordings_purge(*, days: int | None = None) -> int:
    """Delete recordings older than the retention period at Twilio and mark them purged."""
    cutoff = timezone.now() - timedelta(days=settings.CALLCENTRE_RECORDING_RETENTION_DAYS if days is None else days)
    purged = 0
    for recording in CallRecording.objects.filter(purged_at__isnull=True, created_at__lt=cutoff).order_by("id")[:1000]:
        if not recording.url.startswith(DEMO_PREFIX) and twilio_rest.configured():
            try:
                twilio_rest.recording_delete(recording.recording_sid)
            except Exception as exc:  # kept for the next run
                log.warning("recording %s not deleted at Twilio: %s", recording.recording_sid, exc)
                continue
        CallRecording.objects.filter(pk=recording.pk).update(purged_at=timezone.now(), url="")
        purged += 1
    return purged
