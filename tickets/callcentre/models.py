"""呼叫中心: desks (named Twilio queues), seats (an operator's state and skills), queued calls
(one per call that entered a queue, the row every service-level figure is computed from) and
recordings of bridged calls."""

from __future__ import annotations

from django.db import models


class Desk(models.Model):
    """专席: one named Twilio queue (`<Enqueue>hotline-<code></Enqueue>`) and the operators who
    take it. Chosen by the number called or a key in the IVR; the default desk is 普通话 general."""

    code = models.SlugField("代码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=64)
    digit = models.CharField("按键", max_length=1, blank=True, help_text="来电人按此键进入该专席（为空表示不在菜单中）")
    called_number = models.CharField(
        "专线号码", max_length=32, blank=True, help_text="拨打此号码直接进入该专席（E.164）"
    )
    is_default = models.BooleanField("默认专席", default=False)
    sort = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def queue_name(self) -> str:
        return f"hotline-{self.code}"

    @property
    def transfer_queue_name(self) -> str:
        """Callers transferred here from another desk wait in their own queue, which a seat
        offered such a caller dials: they go ahead of the desk's new arrivals (docs/callcentre.md)."""
        return f"hotline-{self.code}-transfer"


class SeatState(models.TextChoices):
    OFFLINE = "offline", "离线"
    READY = "ready", "就绪"
    RINGING = "ringing", "振铃中"
    ON_CALL = "on_call", "通话中"
    WRAP_UP = "wrap_up", "话后处理"
    BREAK = "break", "小休"


class SeatDevice(models.TextChoices):
    SOFTPHONE = "softphone", "软电话（浏览器）"
    PHONE = "phone", "座席话机"


class Seat(models.Model):
    """An operator's seat: the state (with the moment it began), skills and how to ring them.

    `state_since` of a READY seat is how long it has been idle: the assignment offers the next
    caller to the seat idle longest. `leg_call_sid` is the operator's own call leg while one is
    up (the `DequeingCallSid` of the bridge)."""

    user = models.OneToOneField("tickets.User", on_delete=models.CASCADE, related_name="seat")
    state = models.CharField(max_length=12, choices=SeatState.choices, default=SeatState.OFFLINE)
    state_since = models.DateTimeField()
    skills = models.ManyToManyField(Desk, related_name="seats", blank=True, verbose_name="技能（可接专席）")
    device = models.CharField(max_length=12, choices=SeatDevice.choices, default=SeatDevice.SOFTPHONE)
    phone = models.CharField("座席号码或 SIP 地址", max_length=128, blank=True)
    wrap_up_until = models.DateTimeField(null=True, blank=True)
    leg_call_sid = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "state_since"], name="seat_state_since")]

    def __str__(self) -> str:
        return f"{self.user} {self.get_state_display()}"

    @property
    def identity(self) -> str:
        """The softphone's Twilio client identity: the seat, never the person's name."""
        return f"seat-{self.user_id}"


class SeatStateChange(models.Model):
    """Every state a seat entered, when and why (the supervisor's record of 就绪/通话中/话后处理/小休)."""

    seat = models.ForeignKey(Seat, on_delete=models.CASCADE, related_name="changes")
    state = models.CharField(max_length=12, choices=SeatState.choices)
    at = models.DateTimeField()
    reason = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["seat", "-id"], name="seatchange_seat_id")]

    def __str__(self) -> str:
        return f"{self.seat_id} {self.state} {self.at:%H:%M:%S}"


class QueueOutcome(models.TextChoices):
    WAITING = "waiting", "排队中"
    OFFERED = "offered", "已分配座席"
    BRIDGED = "bridged", "已接通"
    ABANDONED = "abandoned", "排队中挂断"
    OVERFLOW = "overflow", "转留言（溢出）"


class QueuedCall(models.Model):
    """One call in (or through) a desk's queue: waits, the operator, handle time, outcome.

    The service levels read only these rows (`tickets/callcentre/levels.py`)."""

    call = models.OneToOneField("tickets.Call", on_delete=models.PROTECT, related_name="queued")
    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="calls")
    phone = models.CharField(max_length=20, blank=True)
    outcome = models.CharField(max_length=12, choices=QueueOutcome.choices, default=QueueOutcome.WAITING)
    enqueued_at = models.DateTimeField()
    offered_to = models.ForeignKey(Seat, null=True, blank=True, on_delete=models.SET_NULL, related_name="offers")
    offered_at = models.DateTimeField(null=True, blank=True)
    offer_call_sid = models.CharField(max_length=64, blank=True, help_text="我方呼叫座席的 CallSid")
    operator = models.ForeignKey(
        "tickets.User", null=True, blank=True, on_delete=models.PROTECT, related_name="answered_calls"
    )
    operator_call_sid = models.CharField(max_length=64, null=True, blank=True, unique=True)
    bridged_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True, help_text="离开队列（接通、挂断、溢出）或通话结束")
    wait_seconds = models.PositiveIntegerField(null=True, blank=True, help_text="排队时长（Twilio QueueTime）")
    handle_seconds = models.PositiveIntegerField(null=True, blank=True, help_text="通话时长（DialCallDuration）")
    last_position = models.PositiveIntegerField(null=True, blank=True)
    transferred_at = models.DateTimeField(
        "转接时间", null=True, blank=True, help_text="最近一次由话务员转接到本专席的时间（排队位置规则见文档）"
    )

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["desk", "enqueued_at"], name="queued_waiting", condition=models.Q(outcome="waiting")),
            models.Index(fields=["enqueued_at"], name="queued_enqueued_at"),
        ]

    def __str__(self) -> str:
        return f"{self.desk} {self.get_outcome_display()}"


class CallRecording(models.Model):
    """A bridged call's recording (Twilio RecordingSid), attached to the ticket filed during the
    call. Played only through the authenticated proxy; purged after the retention period."""

    call = models.ForeignKey("tickets.Call", on_delete=models.PROTECT, related_name="recordings")
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.PROTECT, related_name="recordings"
    )
    recording_sid = models.CharField(max_length=64, unique=True)
    url = models.URLField(max_length=500, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.recording_sid


class CallbackAttempt(models.Model):
    """未接来电回拨 made from the console: our call to the operator's seat, bridged to the citizen.
    The operator's leg is itself a call record (`call`); a connected callback closes the task."""

    task = models.ForeignKey("tickets.CallbackTask", on_delete=models.PROTECT, related_name="attempts")
    call = models.OneToOneField("tickets.Call", on_delete=models.PROTECT, related_name="callback_attempt")
    operator = models.ForeignKey("tickets.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=20, blank=True, help_text="Twilio DialCallStatus")
    talk_seconds = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"回拨 {self.task_id} {self.outcome or '进行中'}"


class CallTransferKind(models.TextChoices):
    TRANSFER = "transfer", "转接专席"
    CONFERENCE = "conference", "三方通话"


class CallTransfer(models.Model):
    """转接 (the caller moved to another desk's queue) or 三方通话 (caller, operator and a unit's
    liaison in one conference, GB/T 33358), made by the operator during a bridged call."""

    call = models.ForeignKey("tickets.Call", on_delete=models.PROTECT, related_name="transfers")
    kind = models.CharField(max_length=12, choices=CallTransferKind.choices)
    operator = models.ForeignKey("tickets.User", on_delete=models.PROTECT, related_name="+")
    leg_call_sid = models.CharField(max_length=64, blank=True, db_index=True, help_text="话务员一侧的 CallSid")
    from_desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="+")
    to_desk = models.ForeignKey(Desk, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("tickets.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    liaison_phone = models.CharField(max_length=20, blank=True)
    liaison_call_sid = models.CharField(max_length=64, blank=True)
    conference = models.CharField(max_length=64, blank=True)
    talk_seconds = models.PositiveIntegerField(null=True, blank=True, help_text="转接前该话务员的通话时长")
    created_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%H:%M:%S}"
