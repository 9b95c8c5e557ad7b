"""Reads for 并单 metrics and the knowledge base."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from tickets.knowledge.models import KbArticle, KbProposal
from tickets.org.models import User


def kb_articles_valid(on: date | None = None) -> QuerySet[KbArticle]:
    """Articles operators may answer from today: active, started, not expired."""
    on = on or timezone.localdate()
    return KbArticle.objects.filter(is_active=True, valid_from__lte=on).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=on)
    )


def kb_articles_for(user: User) -> QuerySet[KbArticle]:
    """Centre roles see every article (also expired ones, to edit them); units see valid ones."""
    qs = KbArticle.objects.select_related("category", "owning_unit")
    if user.is_centre or user.is_superuser:
        return qs
    return qs.filter(pk__in=kb_articles_valid().values("pk"))


def kb_proposals_for(user: User) -> QuerySet[KbProposal]:
    qs = KbProposal.objects.select_related("ticket", "article", "unit", "proposed_by", "decided_by")
    if user.is_centre or user.is_superuser:
        return qs
    if user.is_unit_staff and user.unit is not None:
        return qs.filter(unit=user.unit)
    return qs.none()


def kb_articles_find(user: User, query: str) -> QuerySet[KbArticle]:
    """知识库管理's search: words in the question, keywords or answer, over every article the reader
    may see (for the centre also expired and withdrawn ones), most used first."""
    qs = kb_articles_for(user)
    words = query.split()
    for word in words[:5]:
        qs = qs.filter(Q(question__icontains=word) | Q(keywords__icontains=word) | Q(answer__icontains=word))
    return qs.order_by("-usage_count", "-id")


def kb_articles_expiring(*, within_days: int = 30, on: date | None = None) -> QuerySet[KbArticle]:
    """Active articles whose validity ends within `within_days` (today included): to renew or retire."""
    on = on or timezone.localdate()
    return (
        KbArticle.objects.select_related("owning_unit")
        .filter(is_active=True, valid_until__gte=on, valid_until__lte=on + timedelta(days=within_days))
        .order_by("valid_until", "id")
    )


def kb_article_status(article: KbArticle, on: date | None = None) -> str:
    """有效 / 未生效 / 已过期 / 已下架, as a key: valid, pending, expired, withdrawn."""
    on = on or timezone.localdate()
    if not article.is_active:
        return "withdrawn"
    if article.valid_from > on:
        return "pending"
    if article.valid_until is not None and article.valid_until < on:
        return "expired"
    return "valid"
