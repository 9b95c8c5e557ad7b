"""统一接收: raw inbound deliveries, calls, SMS traffic, citizen logins and partner keys."""

from __future__ import annotations

from django.db import models

from tickets.core.privacy import mask_phone


class InboundChannel(models.TextChoices):
    VOICE = "voice", "来电"
    VOICE_STATUS = "voice_status", "通话状态回调"
    RECORDING = "recording", "留言录音"
    SMS = "sms", "短信"
    SMS_STATUS = "sms_status", "短信状态回调"


class InboundMessage(models.Model):
    """Every webhook delivery exactly as it arrived (audit), with the answer we gave.

    `dedupe_key` is unique: a delivery Twilio retries (same sid at the same endpoint) finds the
    stored row and gets the stored answer back, also when both copies arrive at once — the
    second INSERT waits on the unique index until the first transaction commits.
    A delivery we could not identify (no sid) or failed to process gets a NULL key, so it is
    kept for audit but never blocks a later retry.
    """

    channel = models.CharField(max_length=16, choices=InboundChannel.choices)
    sid = models.CharField(max_length=64, blank=True, help_text="来件在短信或电话服务中的编号")
    dedupe_key = models.CharField(max_length=160, null=True, blank=True, unique=True)
    from_number = models.CharField(max_length=64, blank=True, help_text="来件号码（原样保存）")
    phone = models.CharField(max_length=20, blank=True, help_text="E.164, 无法识别时为空")
    raw = models.JSONField(default=dict, help_text="全部请求参数（原样保存）")
    received_at = models.DateTimeField(auto_now_add=True)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.PROTECT, related_name="inbound_messages"
    )
    response_status = models.PositiveSmallIntegerField(default=200)
    response_body = models.TextField(blank=True)
    note = models.CharField(max_length=255, blank=True, help_text="处理结果说明（例如：重复投递、格式错误）")

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["channel", "phone", "-received_at"], name="inbound_phone_recent")]

    def __str__(self) -> str:
        return f"{self.channel}:{self.sid or '-'}"


class PhoneLine(models.Model):
    """Service hours and seats of the hotline (one row per city profile; no row = 24 h, unlimited)."""

    profile = models.OneToOneField("tickets.CityProfile", on_delete=models.CASCADE, related_name="phone_line")
    opens_at = models.TimeField("人工服务开始", null=True, blank=True, help_text="为空表示 24 小时人工服务")
    closes_at = models.TimeField("人工服务结束", null=True, blank=True)
    seats = models.PositiveSmallIntegerField("话务坐席数", default=0, help_text="0 表示不限")

    def __str__(self) -> str:
        return f"{self.profile} {self.opens_at or '00:00'}–{self.closes_at or '24:00'}"


class Call(models.Model):
    """One incoming call (Twilio CallSid) and what it produced."""

    call_sid = models.CharField(max_length=64, unique=True)
    from_number = models.CharField(max_length=64, blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="国际格式号码，如 +8613812341234")
    to_number = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20, default="ringing")
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    after_hours = models.BooleanField("非服务时间/坐席忙", default=False)
    kind = models.CharField(max_length=16, blank=True, help_text="来电人选择的诉求类型")
    speech_result = models.TextField(blank=True)
    confidence = models.FloatField(null=True, blank=True)
    recording_url = models.URLField(max_length=500, blank=True)
    recording_sid = models.CharField(max_length=64, blank=True)
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.PROTECT, related_name="calls")
    started_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(
        "人工接通时间", null=True, blank=True, help_text="话务员接通（呼叫中心桥接）的时间；接通的来电不生成回拨任务"
    )
    status_history = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["phone", "-id"], name="call_phone_id"),
            models.Index(fields=["status"], name="call_active", condition=models.Q(ended_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.call_sid


class MissedCallState(models.TextChoices):
    OPEN = "open", "待回拨"
    DONE = "done", "已回拨"
    CANCELLED = "cancelled", "无需回拨"


class CallbackOutcome(models.TextChoices):
    """How a callback made by hand ended (登记回拨结果). Not a column: the outcome heads the task's note."""

    REACHED = "reached", "已联系上"
    NO_ANSWER = "no_answer", "无人接听"  # a try: the task stays open
    WRONG_NUMBER = "wrong_number", "号码有误"


class CallbackTask(models.Model):
    """未接来电回拨: a missed or abandoned call an operator must call back."""

    call = models.OneToOneField(Call, on_delete=models.PROTECT, related_name="callback_task")
    phone = models.CharField(max_length=20, blank=True)
    reason = models.CharField(max_length=64)
    state = models.CharField(max_length=12, choices=MissedCallState.choices, default=MissedCallState.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey("tickets.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["state", "id"], name="callback_state_id")]

    def __str__(self) -> str:
        return f"回拨 {mask_phone(self.phone)} ({self.get_state_display()})"


class VerificationCode(models.Model):
    """An SMS code proving a citizen holds a number. Only a hash is stored."""

    phone = models.CharField(max_length=20)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["phone", "-id"], name="vcode_phone_id")]

    def __str__(self) -> str:
        return f"{mask_phone(self.phone)} {self.created_at:%H:%M}"


class CitizenSession(models.Model):
    """An app login (phone + SMS code). The bearer token is shown once; only its hash is kept."""

    key_hash = models.CharField(max_length=64, unique=True)
    phone = models.CharField(max_length=20)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{mask_phone(self.phone)} → {self.expires_at:%Y-%m-%d}"


class IdempotencyRecord(models.Model):
    """The first answer to a request carrying an Idempotency-Key, replayed for its retries."""

    scope = models.CharField(max_length=64, help_text="提交方（市民电话）")
    key = models.CharField(max_length=128)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(default=0)
    response_body = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_scope_key")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"


class PartnerKey(models.Model):
    """An Open311 / partner system's api_key. Only a hash is stored; the key is shown once."""

    name = models.CharField("合作方", max_length=64)
    key_prefix = models.CharField(max_length=8, help_text="便于辨认的前缀")
    key_hash = models.CharField(max_length=64, unique=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"


class AttachmentSource(models.TextChoices):
    CITIZEN = "citizen", "市民上传"
    UNIT_REPLY = "unit_reply", "承办单位办复附件"
    CENTRE = "centre", "热线中心上传"


class TicketAttachment(models.Model):
    """A file on a ticket: a citizen's photo, a unit's reply attachment, … Images are re-encoded
    without metadata (EXIF, GPS). Served only through the logged view `attachment-file`, never a
    public media URL (MEDIA_URL is not routed)."""

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.PROTECT, related_name="attachments", verbose_name="工单"
    )
    file = models.FileField("文件", upload_to="attachments/%Y/%m/")
    content_type = models.CharField("文件类型", max_length=32)
    size = models.PositiveIntegerField("大小（字节）")
    width = models.PositiveIntegerField("宽（像素）", default=0)
    height = models.PositiveIntegerField("高（像素）", default=0)
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    source = models.CharField("来源", max_length=16, choices=AttachmentSource.choices, default=AttachmentSource.CITIZEN)
    original_name = models.CharField("原文件名", max_length=200, blank=True)
    assignment = models.ForeignKey(
        "tickets.Assignment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="attachments",
        verbose_name="所属派单",
    )
    uploaded_by = models.ForeignKey(
        "tickets.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="上传人"
    )

    class Meta:
        verbose_name = "工单附件"
        verbose_name_plural = "工单附件"

    def __str__(self) -> str:
        return self.original_name or self.file.name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")
