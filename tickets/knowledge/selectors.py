"""Reads for 并单 metrics and the knowledge base."""

from __future__ import annotations

from datetime import date

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
