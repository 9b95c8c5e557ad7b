"""Long operations started from a page (classifier retraining, calendar import) and their progress."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class JobKind(models.TextChoices):
    RETRAIN = "retrain", "重新训练分类模型"
    CALENDAR_IMPORT = "calendar_import", "导入工作日历"


class JobState(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "进行中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class BackgroundJob(models.Model):
    """One run of a long operation; the Celery task writes progress here and the page polls it."""

    kind = models.CharField(max_length=24, choices=JobKind.choices)
    state = models.CharField(max_length=12, choices=JobState.choices, default=JobState.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)  # percent, 0..100
    message = models.CharField(max_length=500, blank=True)  # the latest step, in Chinese
    steps = models.JSONField(default=list, blank=True)  # every step so far: [{"at": iso, "text": ...}]
    payload = models.JSONField(default=dict, blank=True)  # input (e.g. the uploaded calendar file)
    result = models.JSONField(default=dict, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "-id"], name="job_kind_id")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} {self.get_state_display()} {self.progress}%"
