"""评价反馈: the citizen's rating of a ticket's outcome, one per handling round."""

from __future__ import annotations

from django.db import models


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", "满意"
    BASIC = "basic", "基本满意"
    DISSATISFIED = "dissatisfied", "不满意"


class Rating(models.Model):
    """One rating per ticket round (重办 starts a new round, which may be rated again)."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.PROTECT, related_name="ratings")
    round = models.PositiveSmallIntegerField(default=1)
    satisfaction = models.CharField(max_length=16, choices=Satisfaction.choices)
    solved = models.BooleanField("已解决", null=True, blank=True)
    contacted = models.BooleanField("承办单位已联系", null=True, blank=True)
    comment = models.TextField(blank=True)
    channel = models.CharField(max_length=16, help_text="sms / web / app / phone")
    phone = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["ticket", "round"], name="rating_one_per_round")]

    def __str__(self) -> str:
        return f"{self.ticket_id}#{self.round} {self.get_satisfaction_display()}"
