"""知识库: articles operators answer from (直接答复), their versions, and units' proposals."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class KbArticle(models.Model):
    """One question with its authoritative answer, valid for a period, owned by a unit.

    `tokens` holds the jieba search-mode tokens of question + keywords + answer, space-joined:
    on PostgreSQL a generated tsvector column over it (added by a vendor-guarded migration)
    carries the GIN index; on SQLite the in-process BM25 index reads the same tokens.
    """

    question = models.CharField("问题", max_length=200)
    answer = models.TextField("答复口径")
    keywords = models.CharField("关键词", max_length=200, blank=True, help_text="空格分隔的同义说法")
    category = models.ForeignKey("tickets.Category", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    owning_unit = models.ForeignKey("tickets.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    valid_from = models.DateField("生效日期")
    valid_until = models.DateField("失效日期", null=True, blank=True)
    is_active = models.BooleanField(default=True, help_text="下架后不再提供")
    version = models.PositiveIntegerField(default=1)
    usage_count = models.PositiveIntegerField("直接答复引用次数", default=0)
    tokens = models.TextField(blank=True, editable=False)
    token_count = models.PositiveIntegerField(default=0, editable=False)
    source_key = models.CharField(max_length=64, blank=True, help_text="演示数据的稳定标识")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["is_active", "valid_until"], name="kb_article_valid")]

    def __str__(self) -> str:
        return self.question


class KbArticleVersion(models.Model):
    """Every edit of an article is a new version row: what operators were told, and when."""

    article = models.ForeignKey(KbArticle, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    question = models.CharField(max_length=200)
    answer = models.TextField()
    keywords = models.CharField(max_length=200, blank=True)
    category = models.ForeignKey("tickets.Category", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    owning_unit = models.ForeignKey("tickets.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    valid_from = models.DateField()
    valid_until = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["article", "version"]
        constraints = [models.UniqueConstraint(fields=["article", "version"], name="kb_version_unique")]

    def __str__(self) -> str:
        return f"{self.article_id} v{self.version}"


class ProposalState(models.TextChoices):
    PENDING = "pending", "待审核"
    APPROVED = "approved", "已采纳"
    REJECTED = "rejected", "未采纳"


class KbProposal(models.Model):
    """A unit's proposal, after answering a 咨询 ticket, for a new article or a change to one."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.PROTECT, related_name="kb_proposals")
    article = models.ForeignKey(
        KbArticle, null=True, blank=True, on_delete=models.PROTECT, related_name="proposals", help_text="修改哪条"
    )
    question = models.CharField(max_length=200)
    answer = models.TextField()
    keywords = models.CharField(max_length=200, blank=True)
    category = models.ForeignKey("tickets.Category", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    valid_until = models.DateField(null=True, blank=True)
    unit = models.ForeignKey("tickets.Unit", on_delete=models.PROTECT, related_name="+")
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=12, choices=ProposalState.choices, default=ProposalState.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    resulting_version = models.ForeignKey(
        KbArticleVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["state", "-id"], name="kb_proposal_state")]

    def __str__(self) -> str:
        return f"proposal {self.pk} ({self.state})"
