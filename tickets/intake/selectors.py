"""Intake reads: the operators' open 未接来电回拨 tasks; a ticket's attachments and recordings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tickets.core import privacy
from tickets.core.models import Ticket
from tickets.core.selectors import ticket_queryset_for
from tickets.errors import NotFound
from tickets.intake.models import Call, CallbackTask, MissedCallState, TicketAttachment
from tickets.org.models import User


@dataclass(frozen=True)
class InboundText:
    """One message a citizen sent that is part of a ticket (an SMS part, a spoken matter), as sent."""

    at: datetime
    channel_label: str
    text: str


# The raw payload key that holds the citizen's words, per door: Twilio's SMS Body, its speech result.
_WORDS = (("Body", "短信"), ("SpeechResult", "语音识别"))


def ticket_inbound_texts(ticket: Ticket, reader: User) -> list[InboundText]:
    """来信记录: every message that made or grew this ticket, in full (the ticket's text may have been
    cut to TICKET_TEXT_MAX), through the privacy rule for this reader."""
    rows = []
    events = ticket.events.filter(action__in=("created", "message_appended")).order_by("id")
    for event in events.only("created_at", "data"):
        raw = (event.data or {}).get("raw") or {}
        for key, label in _WORDS:
            words = raw.get(key) if isinstance(raw, dict) else None
            if isinstance(words, str) and words.strip():
                rows.append(InboundText(event.created_at, label, privacy.citizen_text(words, ticket, reader)))
    return rows


def callbacks_open(*, limit: int = 50) -> list[Any]:
    return list(CallbackTask.objects.filter(state=MissedCallState.OPEN).select_related("call").order_by("id")[:limit])


def callback_task_get(*, task_id: int) -> CallbackTask:
    """One 未接来电回拨 task, whatever its state (a done one is refused by the service, by name)."""
    task = CallbackTask.objects.filter(pk=task_id).first()
    if task is None:
        raise NotFound("回拨任务不存在")
    return task


@dataclass(frozen=True)
class AttachmentItem:
    """One thing attached to a ticket, whatever stores it: a file row or a call recording (the IVR's
    voicemail on the call itself, or a call-centre recording, `tickets.callcentre.selectors`)."""

    kind: str  # "image", "document" or "recording"
    key: str  # "file:<id>", "recording:<call id>" or "call-recording:<id>": what the access log names
    label: str
    source_label: str
    created_at: datetime
    file_id: int | None = None
    call_id: int | None = None  # opened by `recording-open` (Call.recording_url)
    recording_id: int | None = None  # a CallRecording, played by `recording-audio` (the audited proxy)
    duration_seconds: int | None = None

    @property
    def duration_label(self) -> str:
        """The recording's length as m:ss ("" when Twilio did not say)."""
        if self.duration_seconds is None:
            return ""
        minutes, seconds = divmod(self.duration_seconds, 60)
        return f"{minutes}:{seconds:02d}"


def ticket_attachment_items(ticket: Ticket, reader: User) -> list[AttachmentItem]:
    """Everything attached to a ticket that this reader may open (the caller has already checked
    the reader may see the ticket): files for every reader of the ticket, call recordings for the
    centre only (domain.md §9: listening is an audited act, and the voice identifies the caller).
    The call centre's recordings are its own rows: `callcentre.selectors.ticket_recording_items`."""
    items = [
        AttachmentItem(
            kind="image" if row.is_image else "document",
            key=f"file:{row.pk}",
            label=row.original_name or ("照片" if row.is_image else "文件"),
            source_label=row.get_source_display(),
            created_at=row.created_at,
            file_id=row.pk,
        )
        for row in TicketAttachment.objects.filter(ticket=ticket).order_by("id")
    ]
    if privacy.may_hear_recording(reader):
        calls = Call.objects.filter(ticket=ticket).exclude(recording_url="").order_by("id")
        items += [
            AttachmentItem(
                kind="recording",
                key=f"recording:{call.pk}",
                label="通话录音",
                source_label="来电",
                created_at=call.started_at,
                call_id=call.pk,
            )
            for call in calls
        ]
    return items


def attachment_get(reader: User, attachment_id: int) -> TicketAttachment:
    """A file on a ticket the reader may see, or 404 (another unit's ticket answers like no file)."""
    found = (
        TicketAttachment.objects.filter(pk=attachment_id, ticket__in=ticket_queryset_for(reader))
        .select_related("ticket")
        .first()
    )
    if found is None:
        raise NotFound("附件不存在或无权查看")
    return found


def recording_get(reader: User, call_id: int) -> Call:
    if not privacy.may_hear_recording(reader):
        raise NotFound("录音不存在或无权收听")
    call = (
        Call.objects.filter(pk=call_id, ticket__isnull=False).exclude(recording_url="").select_related("ticket").first()
    )
    if call is None:
        raise NotFound("录音不存在或无权收听")
    return call
