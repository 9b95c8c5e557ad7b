"""Unit scorecards: per unit per local day counters, kept up to date from workflow events (§6)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


def same_caller_days() -> int:
    """The window of "the same caller on the same matter" (domain.md §6 重复来电率, 30 days by default).

    The duplicate lookup's same-caller candidates and the scorecards' repeat-call count both use it.
    """
    return int(settings.DUPLICATE_SAME_CALLER_DAYS)


COUNTERS: tuple[str, ...] = (
    "dispatched",
    "signed_on_time",
    "due",
    "replied_on_time",
    "returns_approved",
    "reopened",
    "closed",
    "closed_first_time",
    "answered_directly",
    "accepted",
    "repeat_calls",
    "valid_callbacks",
    "contacted",
    "solved",
    "satisfied",
    "basically_satisfied",
    "dissatisfied",
    "led",
    "ratings",
)


class UnitCounters(models.Model):
    """The §6 counters, added to by UPSERT (x = x + n). A rule may retract its own earlier +1 (a reply
    sent back, an unmerge), on the row that holds it, so a counter never goes below zero."""

    unit = models.ForeignKey("tickets.Unit", on_delete=models.PROTECT, related_name="+")
    dispatched = models.PositiveIntegerField("派单数", default=0)
    signed_on_time = models.PositiveIntegerField("按时签收数", default=0)
    due = models.PositiveIntegerField("应办结数", default=0)
    replied_on_time = models.PositiveIntegerField("按时办结数", default=0)
    returns_approved = models.PositiveIntegerField("退单数", default=0)
    reopened = models.PositiveIntegerField("重办数", default=0)
    closed = models.PositiveIntegerField("办结数", default=0)
    closed_first_time = models.PositiveIntegerField("一次办结数", default=0)
    answered_directly = models.PositiveIntegerField("直接答复数", default=0)
    accepted = models.PositiveIntegerField("受理数", default=0)
    repeat_calls = models.PositiveIntegerField("重复来电数", default=0)
    valid_callbacks = models.PositiveIntegerField("有效回访数", default=0)
    contacted = models.PositiveIntegerField("已联系数", default=0)
    solved = models.PositiveIntegerField("已解决数", default=0)
    satisfied = models.PositiveIntegerField("满意数", default=0)
    basically_satisfied = models.PositiveIntegerField("基本满意数", default=0)
    dissatisfied = models.PositiveIntegerField("不满意数", default=0)
    led = models.PositiveIntegerField("主办工单数", default=0)  # 重复来电率's base for a unit
    ratings = models.PositiveIntegerField("评价数", default=0)  # every rating; valid_callbacks are the complete ones

    class Meta:
        abstract = True


class UnitDayStats(UnitCounters):
    """One row per unit per Asia/Shanghai day."""

    day = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "day"], name="unit_day_stats_unique")]
        indexes = [models.Index(fields=["day", "unit"], name="unit_day_stats_day")]

    def __str__(self) -> str:
        return f"{self.unit_id}@{self.day}"


class UnitMonthStats(UnitCounters):
    """The same counters per unit per month (`month` = its first day), kept with the day rows:
    a year's scorecard then sums 12 rows per unit instead of 365."""

    month = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "month"], name="unit_month_stats_unique")]
        indexes = [models.Index(fields=["month", "unit"], name="unit_month_stats_month")]

    def __str__(self) -> str:
        return f"{self.unit_id}@{self.month:%Y-%m}"


class MetricsConfig(models.Model):
    """The configurable formulas (§6): 三率 weights and the weight of 基本满意. The newest row applies."""

    response_weight = models.FloatField("响应率权重", default=0.1)
    solved_weight = models.FloatField("解决率权重", default=0.5)
    satisfaction_weight = models.FloatField("满意率权重", default=0.4)
    basic_weight = models.FloatField("基本满意折算", default=0.9)
    ranking_size = models.PositiveSmallIntegerField("红黑榜人数", default=5)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"三率权重 {self.response_weight}/{self.solved_weight}/{self.satisfaction_weight}"
