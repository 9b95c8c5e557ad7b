"""The Celery app.

With REDIS_URL set, tasks go through Redis to real workers and beat. Without it (the embedded
default) tasks run in-process (task_always_eager) and `hotline.embedded_scheduler` plays beat.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")

app = Celery("hotline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
