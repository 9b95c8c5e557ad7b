"""Celery tasks: thin adapters that call services by id.

Every task carries an explicit `name`: a queued message (an SMS retry can wait an hour in Redis)
names its task, and a name derived from the module path would change when the module moves.
"""

from __future__ import annotations

from celery import shared_task

from tickets.messaging.services import sms


@shared_task(name="tickets.tasks.sms_send", bind=True, max_retries=None, acks_late=True)  # type: ignore[misc]
def sms_send(self, message_id: int) -> str:  # type: ignore[no-untyped-def]
    """Send one stored SMS; a transient failure is retried with exponential backoff."""
    result = sms.sms_send(message_id=message_id)
    if result.retry_in is not None:
        raise self.retry(countdown=result.retry_in)
    return result.state


@shared_task(name="tickets.tasks.sms_send_many", acks_late=True)  # type: ignore[misc]
def sms_send_many(message_ids: list[int]) -> int:
    """Send a batch of stored SMS (one routing wake-up's); each that must wait is handed to `sms_send`'s
    retries. Safe to run twice: `sms.sms_send_many` leases each row and asks Twilio before re-sending."""
    later = 0
    for message_id, result in sms.sms_send_many(message_ids=message_ids).items():
        if result.retry_in is not None:
            sms_send.apply_async(args=[message_id], countdown=result.retry_in)
            later += 1
    return later


@shared_task(name="tickets.tasks.sms_resend_stale")  # type: ignore[misc]
def sms_resend_stale() -> int:
    """Every minute: re-enqueue queued messages the broker lost (e.g. Redis was down at commit)."""
    return len(sms.sms_resend_stale())
