"""统一督办: supervision notices, their editable templates, and alerts for the admins."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SupervisionLevel(models.TextChoices):
    SIGN_REMINDER = "sign_reminder", "催办签收"
    REMINDER = "reminder", "催办"
    SUPERVISION = "supervision", "督办"
    PUBLIC_NOTICE = "public_notice", "通报"
    MANUAL = "manual", "人工督办"
    FLAGGED = "flagged", "挂牌督办"
    ESCALATED = "escalated", "提级督办"


class NoticeSmsStatus(models.TextChoices):
    PENDING = "pending", "待发送"
    SENT = "sent", "已交短信服务发送"
    NO_SERVICE = "no_service", "短信服务未接入"
    NO_RECIPIENT = "no_recipient", "无接收人"
    FAILED = "failed", "发送失败"


class Supervision(models.Model):
    """One 催办/督办/通报 act: the notice text as sent, to whom, and when. Never edited."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.PROTECT, related_name="supervisions")
    assignment = models.ForeignKey(
        "tickets.Assignment", null=True, blank=True, on_delete=models.PROTECT, related_name="supervisions"
    )
    unit = models.ForeignKey("tickets.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    level = models.CharField(max_length=16, choices=SupervisionLevel.choices)
    clock = models.CharField(max_length=8, blank=True, help_text="所涉时限：签收或办结")
    due_at = models.DateTimeField("所涉时限", null=True, blank=True)
    text = models.TextField("通知内容")
    note = models.TextField("督办意见", blank=True)
    recipients = models.JSONField(default=list, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_by_label = models.CharField(max_length=64, blank=True, help_text="定时任务或系统")
    sms_status = models.CharField(max_length=16, choices=NoticeSmsStatus.choices, default=NoticeSmsStatus.PENDING)
    notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["ticket", "id"], name="supervision_ticket_id"),
            models.Index(fields=["unit", "created_at"], name="supervision_unit_created"),
            models.Index(fields=["level", "created_at"], name="supervision_level_created"),
            # the re-scan of notices whose fan-out task was lost (supervisions_notify_pending)
            models.Index(fields=["created_at"], name="supervision_pending", condition=models.Q(sms_status="pending")),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.get_level_display()}"


class NoticeTemplate(models.Model):
    """The text of each level's notice, in Django template syntax; admins edit it.

    Context: ticket_number, ticket_title, unit_name, level_label, clock_label, due_at (local
    "YYYY年M月D日 HH:MM"), overdue_days, note, issued_by.
    """

    level = models.CharField(max_length=16, choices=SupervisionLevel.choices, unique=True)
    body = models.TextField("模板")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.get_level_display()
