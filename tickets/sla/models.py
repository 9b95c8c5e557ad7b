"""Time-limit policy as data (city profile × kind × urgency) and the working-day calendar."""

from __future__ import annotations

from django.db import models

from tickets.core.models import Kind, Urgency


class AlertKind(models.TextChoices):
    CALENDAR_GAP = "calendar_gap", "工作日历缺失"


class AdminAlert(models.Model):
    """Something only an admin can fix (e.g. import next year's calendar). One open row per key."""

    kind = models.CharField(max_length=24, choices=AlertKind.choices)
    key = models.CharField(max_length=64, unique=True)
    title = models.CharField(max_length=200)
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    occurrences = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.title


class LimitUnitChoice(models.TextChoices):
    MINUTES = "minutes", "分钟"
    HOURS = "hours", "小时（自然时间）"
    WORKING_DAYS = "working_days", "工作日"


class CityProfile(models.Model):
    """A city's configurable rules (domain.md: everything marked *configurable*)."""

    name = models.CharField(max_length=64, unique=True)
    is_active = models.BooleanField(default=False)
    problem_reopen_threshold = models.PositiveSmallIntegerField("重办几次成为问题工单", default=3)
    problem_units_threshold = models.PositiveSmallIntegerField("经手几个单位无人主办成为问题工单", default=3)
    rating_expiry_days = models.PositiveSmallIntegerField("评价请求几天未答复按未评价办结", default=7)
    sms_merge_window_minutes = models.PositiveSmallIntegerField("同号码短信合并窗口（分钟）", default=5)
    # Chosen from the calibration curve of the real-data benchmark (bench/classifier): at 0.6 the
    # automatically dispatched tickets are right ≥ 97% of the time while most tickets still go
    # straight to a unit. Categories may override it.
    auto_dispatch_threshold = models.FloatField("自动派单置信度阈值", default=0.6)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=models.Q(is_active=True), name="one_active_profile"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SlaPolicy(models.Model):
    """One row of the 时限 table. Rows are versions: an edit applies to assignments created after it,
    because each assignment keeps the policy row it was created under."""

    profile = models.ForeignKey(CityProfile, on_delete=models.CASCADE, related_name="policies")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    urgency = models.CharField(max_length=16, choices=Urgency.choices)
    sign_amount = models.PositiveIntegerField("签收时限")
    sign_unit = models.CharField(max_length=16, choices=LimitUnitChoice.choices)
    reply_amount = models.PositiveIntegerField("办结时限")
    reply_unit = models.CharField(max_length=16, choices=LimitUnitChoice.choices)
    return_window_days = models.PositiveSmallIntegerField("退回申请期限（工作日）", default=2)
    extension_cap_days = models.PositiveSmallIntegerField("延期上限（工作日）", default=10)
    max_extensions = models.PositiveSmallIntegerField("最多延期次数", default=1)
    warn_working_days_before = models.PositiveSmallIntegerField("催办提前（工作日）", default=1)
    warn_fraction = models.FloatField("小时时限的催办提前比例", default=0.2)
    supervise_after_working_days = models.PositiveSmallIntegerField("逾期后几个工作日督办", default=1)
    notice_after_working_days = models.PositiveSmallIntegerField("督办后几个工作日通报", default=5)
    pause_allowed = models.BooleanField("等待群众补充材料时可暂停计时", default=True)
    is_current = models.BooleanField(default=True)
    supersedes = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="被本版本取代的旧版本"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "kind", "urgency"],
                condition=models.Q(is_current=True),
                name="one_current_policy",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.profile} {self.get_kind_display()}/{self.get_urgency_display()} v{self.pk}"


class DayTypeChoice(models.TextChoices):
    WORKDAY = "workday", "工作日"
    WEEKEND = "weekend", "休息日"
    HOLIDAY = "holiday", "法定节假日"
    MAKEUP_WORKDAY = "makeup_workday", "调休上班"


class CalendarYear(models.Model):
    """A year whose calendar is complete; a deadline reaching past known years is never guessed."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    source = models.CharField(max_length=64)
    imported_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return str(self.year)


class CalendarDay(models.Model):
    date = models.DateField(primary_key=True)
    day_type = models.CharField(max_length=16, choices=DayTypeChoice.choices)
    name = models.CharField(max_length=32, blank=True, help_text="节日名称")

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.get_day_type_display()}"
