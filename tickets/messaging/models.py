"""Outbound SMS: one row per message with its delivery state, and opt-outs (退订)."""

from __future__ import annotations

from django.db import models

from tickets.core.privacy import mask_phone


class SmsPurpose(models.TextChoices):
    RECEIVED = "received", "受理告知"
    DISPATCHED = "dispatched", "转办告知"
    RATING_REQUEST = "rating_request", "评价邀请"
    ANSWER = "answer", "直接答复"
    VERIFICATION = "verification", "验证码"
    OTHER = "other", "其他"


class SmsState(models.TextChoices):
    QUEUED = "queued", "待发送"
    SENDING = "sending", "发送中"
    SENT = "sent", "已提交运营商"
    DELIVERED = "delivered", "已送达"
    UNDELIVERED = "undelivered", "未送达"
    FAILED = "failed", "发送失败"
    OUTBOX = "outbox", "本地发件箱（未配置短信通道）"
    SUPPRESSED = "suppressed", "已退订，未发送"


class SmsMessage(models.Model):
    """One outbound SMS and its delivery state. Written inside the business transaction; a Celery
    task sends it after commit, and a periodic task re-sends rows the queue lost."""

    to_phone = models.CharField(max_length=20)
    body = models.TextField()
    purpose = models.CharField(max_length=20, choices=SmsPurpose.choices)
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.PROTECT, related_name="sms")
    state = models.CharField(max_length=16, choices=SmsState.choices, default=SmsState.QUEUED)
    twilio_sid = models.CharField(max_length=64, null=True, blank=True, unique=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    status_history = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="sms_queued_due", condition=models.Q(state="queued")),
            models.Index(fields=["to_phone", "-id"], name="sms_phone_id"),
            # claims abandoned by a worker that died mid-send (sms_resend_stale)
            models.Index(fields=["updated_at"], name="sms_sending_lease", condition=models.Q(state="sending")),
        ]

    def __str__(self) -> str:
        return f"{mask_phone(self.to_phone)} {self.get_purpose_display()} ({self.get_state_display()})"


class SmsOptOut(models.Model):
    """退订: the number asked for no more notifications (TD / 退订)."""

    phone = models.CharField(max_length=20, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return mask_phone(self.phone)
