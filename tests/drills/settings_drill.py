"""Settings for the processes a drill starts: production settings with short clocks.

The periodic recovery tasks run every second or two instead of every minute, and the leases
and timeouts are seconds, so a drill shows recovery within its time budget. Everything else
(the code paths, the guarded claims, the outboxes) is exactly what production runs.
"""

from hotline.settings import *  # noqa: F403
from hotline.settings import CELERY_BEAT_SCHEDULE, CELERY_BROKER_TRANSPORT_OPTIONS

SMS_STALE_AFTER_SECONDS = 3
SUPERVISION_PENDING_AFTER_SECONDS = 3
TWILIO_HTTP_TIMEOUT = 5.0
CELERY_BEAT_SCHEDULE = {
    name: {**CELERY_BEAT_SCHEDULE[name], "schedule": 2.0, "options": {"expires": 10}}
    for name in ("live-outbox-flush", "sms-resend-stale", "supervisions-notify-pending", "routing-run")
}
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    # a task held by a killed worker is back in the queue after a few seconds, swept every second
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
