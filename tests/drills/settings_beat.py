"""Settings for the beat drill: one periodic task every second, to count how often it is sent."""

from hotline.settings import *  # noqa: F403

CELERY_BEAT_SCHEDULE = {
    "drill-tick": {"task": "channels_app.tasks.live_outbox_flush", "schedule": 1.0},
}
BEAT_STANDBY_SECONDS = 1.0
