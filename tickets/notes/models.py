"""Internal notes on a ticket and reply templates per unit."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class TicketNote(models.Model):
    """内部备注: a message between the centre and a unit about one ticket. Read by staff who may see
    the ticket; no citizen page, SMS, Open311 answer or export reads this table. Never edited."""

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.PROTECT, related_name="internal_notes", verbose_name="工单"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="填写人"
    )
    author_unit = models.ForeignKey(
        "tickets.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="填写单位"
    )
    text = models.TextField("备注内容")
    created_at = models.DateTimeField("填写时间", auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "内部备注"
        verbose_name_plural = "内部备注"
        indexes = [models.Index(fields=["ticket", "id"], name="note_ticket_id")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.text[:20]}"


class ReplyTemplate(models.Model):
    """答复模板: wording a unit reuses in its 办复 (the reply form offers its own and the shared ones)."""

    unit = models.ForeignKey(
        "tickets.Unit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reply_templates",
        verbose_name="所属单位",
        help_text="为空表示所有单位通用",
    )
    title = models.CharField("模板名称", max_length=64)
    body = models.TextField("模板内容")
    is_active = models.BooleanField("启用", default=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        ordering = ["title", "id"]
        verbose_name = "答复模板"
        verbose_name_plural = "答复模板"

    def __str__(self) -> str:
        return self.title
