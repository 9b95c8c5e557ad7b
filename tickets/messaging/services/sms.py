"""Outbound SMS: a stored row per message, sent after commit through the official `twilio` client.

The row is written inside the business transaction, so a message is never lost when Redis is
down; `transaction.on_commit` enqueues the Celery task by id, and `sms_resend_stale` (periodic)
re-enqueues rows the queue lost. Without Twilio credentials (the embedded default) messages go
to the local outbox (state `outbox`), shown in the admin and on the staff outbox page.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.rest import Client

from tickets.core.memo import memoised
from tickets.core.models import Ticket
from tickets.core.services.rows import objects_insert
from tickets.core.text import normalise_phone
from tickets.messaging.models import SmsMessage, SmsOptOut, SmsPurpose, SmsState

log = logging.getLogger("tickets.sms")

# Twilio's MessageStatus values, ranked: a late callback never moves a message backwards.
_RANK = {
    "queued": 1,
    "accepted": 1,
    "scheduled": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 5,
    "undelivered": 5,
    "failed": 5,
    "read": 5,
}
_OUR_STATE: dict[str, str] = {
    "sent": SmsState.SENT,
    "sending": SmsState.SENT,
    "delivered": SmsState.DELIVERED,
    "read": SmsState.DELIVERED,
    "undelivered": SmsState.UNDELIVERED,
    "failed": SmsState.FAILED,
}
_STATE_RANK: dict[str, int] = {
    SmsState.QUEUED: 0,
    SmsState.SENDING: 1,
    SmsState.SENT: 3,
    SmsState.DELIVERED: 5,
    SmsState.UNDELIVERED: 5,
    SmsState.FAILED: 5,
}


# --- opt-out (退订) ------------------------------------------------------------------------------


def opted_out(phone: str) -> bool:
    return bool(phone) and memoised(("opted_out", phone), lambda: SmsOptOut.objects.filter(phone=phone).exists())


def opted_out_among(phones: set[str]) -> set[str]:
    """Which of these numbers opted out: one query for a batch."""
    phones.discard("")
    return set(SmsOptOut.objects.filter(phone__in=phones).values_list("phone", flat=True)) if phones else set()


def sms_opt_out(*, phone: str, source: str = "sms") -> None:
    """TD / 退订: no more notifications to this number, from now on."""
    SmsOptOut.objects.get_or_create(phone=phone, defaults={"source": source})
    SmsMessage.objects.filter(to_phone=phone, state=SmsState.QUEUED).update(
        state=SmsState.SUPPRESSED, last_error="号码已退订"
    )


def sms_opt_in(*, phone: str) -> None:
    SmsOptOut.objects.filter(phone=phone).delete()


# --- queueing ----------------------------------------------------------------------------------


def sms_enqueue(*, to: str, body: str, purpose: str = SmsPurpose.OTHER, ticket: Ticket | None = None) -> SmsMessage:
    """Store the message now; send it after the surrounding transaction commits."""
    phone = normalise_phone(to, field="to")
    suppressed = opted_out(phone)
    message = SmsMessage.objects.create(
        to_phone=phone,
        body=body,
        purpose=purpose,
        ticket=ticket,
        state=SmsState.SUPPRESSED if suppressed else SmsState.QUEUED,
        last_error="号码已退订" if suppressed else "",
        next_attempt_at=None if suppressed else timezone.now(),
    )
    if not suppressed:
        transaction.on_commit(lambda: _enqueue(message.pk), robust=True)
    return message


def sms_enqueue_many(messages: Sequence[tuple[str, str, str, Ticket | None]]) -> list[SmsMessage]:
    """`sms_enqueue` for a set of (to, body, purpose, ticket): one INSERT, and one send task after the
    commit for all of them (the routing worker's batch: its SMS go out together, per wake-up)."""
    now = timezone.now()
    phones = [normalise_phone(to, field="to") for to, _body, _purpose, _ticket in messages]
    opted = set(SmsOptOut.objects.filter(phone__in=set(phones)).values_list("phone", flat=True)) if phones else set()
    rows = []
    for phone, (_to, body, purpose, ticket) in zip(phones, messages, strict=True):
        suppressed = phone in opted
        rows.append(
            SmsMessage(
                to_phone=phone, body=body, purpose=purpose, ticket=ticket,
                state=SmsState.SUPPRESSED if suppressed else SmsState.QUEUED,
                last_error="号码已退订" if suppressed else "",
                next_attempt_at=None if suppressed else now,
            )
        )  # fmt: skip
    if not rows:
        return []
    created = objects_insert(rows)
    queued = [m.pk for m in created if m.state == SmsState.QUEUED]
    if queued:
        transaction.on_commit(lambda: _enqueue_many(queued), robust=True)
    return created


def _enqueue_many(message_ids: list[int]) -> None:
    from tickets.messaging.tasks import sms_send_many

    try:
        sms_send_many.delay(message_ids)
    except Exception as exc:  # broker down: the rows stay queued and sms_resend_stale picks them up
        log.warning("sms %s: could not enqueue (%s: %s), will be re-sent by the periodic task",
                    message_ids, type(exc).__name__, exc)  # fmt: skip


def _enqueue(message_id: int) -> None:
    # Imported here: tasks import services, not the other way round at module load.
    from tickets.messaging.tasks import sms_send

    try:
        sms_send.delay(message_id)
    except Exception as exc:  # broker down: the row stays queued and sms_resend_stale picks it up
        # One line per message, not a traceback: while Redis is away every intake lands here.
        log.warning("sms %s: could not enqueue (%s: %s), will be re-sent by the periodic task",
                    message_id, type(exc).__name__, exc)  # fmt: skip


def sms_resend_stale(*, now: datetime | None = None) -> list[int]:
    """Messages the queue lost: queued and due for more than a minute, or claimed by a worker
    that died mid-send (still `sending` after the lease; `sms_send` asks Twilio before re-sending).
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.SMS_STALE_AFTER_SECONDS)
    lease_cutoff = now - timedelta(seconds=settings.SMS_SENDING_LEASE_SECONDS)
    queued = (
        SmsMessage.objects.filter(state=SmsState.QUEUED)
        .filter(Q(next_attempt_at__lte=cutoff) | Q(next_attempt_at__isnull=True, created_at__lte=cutoff))
        .order_by("id")
        .values_list("id", flat=True)[:500]
    )
    abandoned = (
        SmsMessage.objects.filter(state=SmsState.SENDING, updated_at__lt=lease_cutoff)
        .order_by("id")
        .values_list("id", flat=True)[:500]
    )
    ids = sorted({*queued, *abandoned})
    for message_id in ids:
        _enqueue(message_id)
    return ids


# --- sending -------------------------------------------------------------------------------------


class HotlineTwilioHttpClient(TwilioHttpClient):
    """The twilio library's own HTTP client, pointed at TWILIO_API_BASE_URL when set.

    `Client(http_client=...)` is the library's supported hook for a custom transport; only the
    scheme and host change, the path and form body are exactly what the library builds.
    """

    def __init__(self, *, base_url: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> TwilioResponse:
        if self.base_url:
            parts = urlsplit(url)
            url = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().request(method, url, *args, **kwargs)


def twilio_configured() -> bool:
    return bool(
        settings.TWILIO_ACCOUNT_SID
        and settings.TWILIO_AUTH_TOKEN
        and (settings.TWILIO_FROM_NUMBER or settings.TWILIO_MESSAGING_SERVICE_SID)
    )


def twilio_client() -> Any:
    http = HotlineTwilioHttpClient(base_url=settings.TWILIO_API_BASE_URL, timeout=settings.TWILIO_HTTP_TIMEOUT)
    return Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http)


def status_callback_url() -> str:
    base = settings.TWILIO_WEBHOOK_BASE_URL or settings.HOTLINE_PUBLIC_URL
    return f"{base}/webhooks/twilio/sms/status/"


def retry_delay(attempt: int) -> float:
    """Exponential backoff with jitter: base × 2^(attempt-1), ±20 %, capped at an hour."""
    base = settings.SMS_RETRY_BASE_SECONDS * (2 ** max(0, attempt - 1))
    return float(min(3600.0, base * random.uniform(0.8, 1.2)))


@dataclass(frozen=True)
class SendResult:
    state: str
    retry_in: float | None = None


def sms_send(*, message_id: int) -> SendResult:
    """Send one queued message (see `sms_send_many`)."""
    return sms_send_many(message_ids=[message_id])[message_id]


def sms_send_many(*, message_ids: Sequence[int]) -> dict[int, SendResult]:
    """Send queued messages (one routing wake-up's 受理 SMS, or one retry). Claimed with a guarded
    update, so two workers never both send one.

    A claim is a lease: a message still `sending` SMS_SENDING_LEASE_SECONDS after its claim
    belongs to a worker that died mid-send (SIGKILL, lost node; the task comes back through
    acks_late). It is claimed again, and Twilio is asked first whether it already has the
    message, so a send that did reach Twilio before the crash is recorded, not repeated.

    The batch is claimed in one transaction, its opt-outs read in one query, and the messages that
    end the same way without Twilio (退订, or the outbox when no Twilio is configured) recorded in
    one statement: one message at a time this took four statements and two disk flushes each.
    """
    now = timezone.now()
    results = dict.fromkeys(message_ids, SendResult("skipped"))
    claimed, reclaimed = _claim(message_ids, now)
    sending: list[SmsMessage] = []
    for message in claimed:
        if message.pk in reclaimed and twilio_configured():
            try:
                already = _twilio_find(message)
            except Exception as exc:  # cannot tell: do not risk a second SMS now, try again after the lease
                log.warning("sms %s: abandoned send, Twilio could not be asked: %s", message.pk, exc)
                continue
            if already is not None:
                SmsMessage.objects.filter(pk=message.pk, state=SmsState.SENDING).update(
                    state=SmsState.SENT, twilio_sid=already.sid, sent_at=now, last_error=""
                )
                log.warning("sms %s: abandoned send had reached Twilio as %s; not sent again", message.pk, already.sid)
                results[message.pk] = SendResult(SmsState.SENT)
                continue
        sending.append(message)
    stopped = opted_out_among({message.to_phone for message in sending})  # 退订 arrived after they were queued
    if stopped:
        _finish([m for m in sending if m.to_phone in stopped], SmsState.SUPPRESSED, error="号码已退订")
        results.update({m.pk: SendResult(SmsState.SUPPRESSED) for m in sending if m.to_phone in stopped})
        sending = [m for m in sending if m.to_phone not in stopped]
    if not twilio_configured():
        _finish(sending, SmsState.OUTBOX, sent_at=now)
        for message in sending:
            log.debug("sms %s to outbox (no Twilio credentials): %s", message.pk, message.body)
            results[message.pk] = SendResult(SmsState.OUTBOX)
        return results
    for message in sending:
        results[message.pk] = _twilio_send(message)
    return results


def _claim(message_ids: Sequence[int], now: datetime) -> tuple[list[SmsMessage], set[int]]:
    """The messages this worker may send now, each marked `sending` (a queued one's attempt counted),
    and which of them were reclaimed from a lease that ran out."""
    lease_cutoff = now - timedelta(seconds=settings.SMS_SENDING_LEASE_SECONDS)
    with transaction.atomic():
        rows = SmsMessage.objects.select_for_update(skip_locked=True).filter(pk__in=message_ids).order_by("pk")
        queued = list(rows.filter(state=SmsState.QUEUED))
        everyone = len(queued) == len(set(message_ids))
        stale = [] if everyone else list(rows.filter(state=SmsState.SENDING, updated_at__lt=lease_cutoff))
        if queued:
            SmsMessage.objects.filter(pk__in=[m.pk for m in queued]).update(
                state=SmsState.SENDING, attempts=F("attempts") + 1, updated_at=now
            )
        if stale:
            SmsMessage.objects.filter(pk__in=[m.pk for m in stale]).update(updated_at=now)
    for message in queued:
        message.state, message.attempts, message.updated_at = SmsState.SENDING, message.attempts + 1, now
    for message in stale:
        message.updated_at = now
    return [*queued, *stale], {m.pk for m in stale}  # in the order they were queued


def _twilio_send(message: SmsMessage) -> SendResult:
    try:
        sent = _twilio_create(message)
    except Exception as exc:
        return _failed_attempt(message, exc)
    SmsMessage.objects.filter(pk=message.pk, state=SmsState.SENDING).update(
        state=SmsState.SENT,
        twilio_sid=sent.sid,
        sent_at=timezone.now(),
        last_error="",
        status_history=[*message.status_history, {"status": str(sent.status or "queued"), "at": _iso()}],
    )
    return SendResult(SmsState.SENT)


def _twilio_create(message: SmsMessage) -> Any:
    sender = (
        {"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
        if settings.TWILIO_MESSAGING_SERVICE_SID
        else {"from_": settings.TWILIO_FROM_NUMBER}
    )
    return twilio_client().messages.create(
        to=message.to_phone, body=message.body, status_callback=status_callback_url(), **sender
    )


def _twilio_find(message: SmsMessage) -> Any | None:
    """The message Twilio already holds for this row (same number and text, created after it), if any."""
    for sent in twilio_client().messages.list(to=message.to_phone, limit=50):
        created = sent.date_created
        if sent.body == message.body and (created is None or created >= message.created_at - timedelta(minutes=5)):
            return sent
    return None


def _failed_attempt(message: SmsMessage, exc: Exception) -> SendResult:
    status = getattr(exc, "status", None)
    error = f"{type(exc).__name__}: {getattr(exc, 'msg', None) or exc}"[:500]
    # A 4xx other than 429 will fail the same way again (bad number, unverified sender…).
    permanent = isinstance(exc, TwilioRestException) and status is not None and 400 <= status < 500 and status != 429
    if permanent or message.attempts >= settings.SMS_MAX_ATTEMPTS:
        _finish([message], SmsState.FAILED, error=error)
        log.warning("sms %s failed after %s attempts: %s", message.pk, message.attempts, error)
        return SendResult(SmsState.FAILED)
    delay = retry_delay(message.attempts)
    SmsMessage.objects.filter(pk=message.pk, state=SmsState.SENDING).update(
        state=SmsState.QUEUED,
        last_error=error,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
    )
    return SendResult(SmsState.QUEUED, retry_in=delay)


def _finish(messages: Sequence[SmsMessage], state: str, *, error: str = "", sent_at: datetime | None = None) -> None:
    if messages:
        ids = [m.pk for m in messages]
        SmsMessage.objects.filter(pk__in=ids).update(state=state, last_error=error, sent_at=sent_at)


def _iso() -> str:
    return timezone.now().isoformat()


# --- delivery reports ------------------------------------------------------------------------


def sms_status_update(*, sid: str, status: str, error_code: str = "") -> SmsMessage | None:
    """Twilio's status callback: record the delivery state, never moving backwards."""
    with transaction.atomic():
        message = SmsMessage.objects.select_for_update().filter(twilio_sid=sid).first()
        if message is None:
            return None
        history = [
            *message.status_history,
            {"status": status, "at": _iso(), **({"error": error_code} if error_code else {})},
        ]
        fields: dict[str, Any] = {"status_history": history}
        ours = _OUR_STATE.get(status)
        if ours is not None and _RANK.get(status, 0) >= _STATE_RANK.get(message.state, 0):
            fields["state"] = ours
            if error_code:
                fields["last_error"] = f"Twilio 错误码 {error_code}"
        SmsMessage.objects.filter(pk=message.pk).update(**fields)
        for name, value in fields.items():
            setattr(message, name, value)
        return message
