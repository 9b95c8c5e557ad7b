"""重复诉求: per-ticket text fingerprints for indexed duplicate lookup, confirmed duplicate links, hot-spot alerts."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class TicketFingerprint(models.Model):
    """The ticket's MinHash signature, written once at intake.

    The signature estimates the character-shingle Jaccard similarity of two tickets without
    reading their text; the band keys below make "who shares a band with me" an indexed query.
    """

    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, primary_key=True, related_name="+")
    signature = models.BinaryField(help_text="文本签名，用于查找重复诉求")
    shingle_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"fingerprint:{self.ticket_id}"


class TicketBand(models.Model):
    """One LSH band of a ticket's signature: tickets sharing a key are candidate duplicates.

    created_at is copied from the ticket so the time window is part of the same index, and
    ticket_id is in it too, so a lookup is an index-only scan that never touches the heap.
    """

    key = models.BigIntegerField()
    created_at = models.DateTimeField()
    # No foreign-key constraint in the database: a ticket writes 32 bands, and PostgreSQL checked the
    # ticket row for each of them at commit (32 lookups per ticket, a fifth of the routing batch's
    # statement time). Bands are derived rows: the ORM still deletes them with their ticket, and a
    # lookup joins back to tickets, so a band without one is never a candidate.
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )

    class Meta:
        indexes = [models.Index(fields=["key", "created_at", "ticket"], name="band_key_time_ticket")]

    def __str__(self) -> str:
        return f"band:{self.ticket_id}:{self.key}"


class DuplicateLinkKind(models.TextChoices):
    MERGED = "merged", "并单"
    CONFIRMED = "confirmed", "确认重复"


class DuplicateLink(models.Model):
    """A later ticket about the same matter as an earlier one; counted by 重复来电率 when same_caller.

    Links are revoked (not deleted) when a merge is undone, so the history stays whole.
    """

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="duplicate_links")
    earlier = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="later_duplicate_links")
    kind = models.CharField(max_length=12, choices=DuplicateLinkKind.choices)
    same_caller = models.BooleanField(default=False)
    days_apart = models.FloatField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Copied from the later ticket: 重复来电率 for a period is one indexed range scan.
    ticket_created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "earlier"], name="duplicate_link_unique_pair")]
        indexes = [models.Index(fields=["ticket_created_at"], name="duplicate_link_ticket_time")]

    def __str__(self) -> str:
        return f"{self.ticket_id}→{self.earlier_id}({self.kind})"


class HotspotAlert(models.Model):
    """热点激增: a cluster grew much faster than its baseline; supervisors are told live."""

    key = models.CharField(max_length=64, help_text="簇的稳定标识（属地 + 关键词）")
    day = models.DateField(help_text="告警所属日期（北京时间）")
    label = models.CharField(max_length=120)
    place = models.CharField(max_length=64, blank=True)
    keywords = models.JSONField(default=list)
    current_count = models.PositiveIntegerField()
    baseline_per_day = models.FloatField()
    growth = models.FloatField()
    representative = models.ForeignKey("tickets.Ticket", on_delete=models.PROTECT, related_name="+")
    ticket_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["key", "day"], name="hotspot_alert_once_a_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.label} ×{self.current_count}"
