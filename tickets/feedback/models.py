"""评价反馈: the citizen's rating of a ticket's outcome, one per handling round; 回访 tasks; 不满意 review."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", "满意"
    BASIC = "basic", "基本满意"
    DISSATISFIED = "dissatisfied", "不满意"


class Cause(models.TextChoices):
    """Why a citizen is 不满意: the unit's own handling (主观) or beyond its reach (客观).

    A citizen rating by SMS, web or app cannot judge that: their 不满意 arrives 未判定 and waits in
    the supervisors' review queue, who classify it while ruling on it.
    """

    SUBJECTIVE = "subjective", "承办单位主观原因"
    OBJECTIVE = "objective", "客观原因"
    UNDETERMINED = "undetermined", "待判定"


class Review(models.TextChoices):
    """The supervisor's ruling on a 不满意 (主观) rating."""

    PENDING = "pending", "待审核"
    REOPENED = "reopened", "已重办"
    CLOSED = "closed", "已说明办结"


class Rating(models.Model):
    """One rating per ticket round (重办 starts a new round, which may be rated again)."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.PROTECT, related_name="ratings")
    round = models.PositiveSmallIntegerField(default=1)
    satisfaction = models.CharField(max_length=16, choices=Satisfaction.choices)
    solved = models.BooleanField("已解决", null=True, blank=True)
    contacted = models.BooleanField("承办单位已联系", null=True, blank=True)
    comment = models.TextField(blank=True)
    channel = models.CharField(max_length=16, help_text="评价渠道：短信、网站、移动端或电话回访")
    phone = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    cause = models.CharField("不满意原因", max_length=12, choices=Cause.choices, blank=True)
    # The unit whose handling is rated (the round's lead unit; for a merged child, the master's).
    unit = models.ForeignKey("tickets.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    review = models.CharField("不满意审核", max_length=12, choices=Review.choices, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review_reason = models.TextField(blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["ticket", "round"], name="rating_one_per_round")]
        indexes = [
            models.Index(fields=["review", "id"], name="rating_review_pending", condition=models.Q(review="pending")),
            # The SMS follow-up looks up a number's latest SMS rating on every inbound message.
            models.Index(fields=["phone", "created_at"], name="rating_sms_phone", condition=models.Q(channel="sms")),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}#{self.round} {self.get_satisfaction_display()}"


class RatingRequestState(models.TextChoices):
    OPEN = "open", "待评价"
    ANSWERED = "answered", "已评价"
    EXPIRED = "expired", "超期未评价"


class RatingRequest(models.Model):
    """The rating request of one round: it expires (未评价办结) after CityProfile.rating_expiry_days."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.PROTECT, related_name="rating_requests")
    round = models.PositiveSmallIntegerField()
    requested_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=RatingRequestState.choices, default=RatingRequestState.OPEN)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "round"], name="rating_request_one_per_round")]
        indexes = [models.Index(fields=["expires_at"], name="rating_request_open", condition=models.Q(state="open"))]

    def __str__(self) -> str:
        return f"{self.ticket_id}#{self.round} {self.get_state_display()}"


class RatingCallbackState(models.TextChoices):
    OPEN = "open", "待回访"
    DONE = "done", "已回访"
    CANCELLED = "cancelled", "无需回访"


class RatingCallback(models.Model):
    """回访: an operator calls the citizen of a phone ticket the day after the reply was accepted."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.PROTECT, related_name="rating_callbacks")
    round = models.PositiveSmallIntegerField()
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="rating_callbacks")
    due_at = models.DateTimeField("回访时间")
    status = models.CharField(max_length=10, choices=RatingCallbackState.choices, default=RatingCallbackState.OPEN)
    reached = models.BooleanField("有效回访（已接通）", null=True, blank=True)
    rating = models.OneToOneField(Rating, null=True, blank=True, on_delete=models.PROTECT, related_name="callback")
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [models.UniqueConstraint(fields=["ticket", "round"], name="rating_callback_one_per_round")]
        indexes = [models.Index(fields=["operator", "status", "due_at"], name="rating_callback_queue")]

    def __str__(self) -> str:
        return f"{self.ticket_id}#{self.round} 回访 {self.get_status_display()}"
