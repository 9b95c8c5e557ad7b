"""Partner systems (Open311 clients) and their api_keys. Only a hash of a key is stored."""

from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone

from tickets.errors import NotPermitted
from tickets.intake.models import PartnerKey


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()


def partner_key_create(*, name: str) -> tuple[str, PartnerKey]:
    """A new api_key for a partner; the key itself is returned once and never stored."""
    key = secrets.token_urlsafe(24)
    partner = PartnerKey.objects.create(name=name, key_prefix=key[:8], key_hash=_hash(key))
    return key, partner


def partner_for_key(key: str) -> PartnerKey:
    partner = PartnerKey.objects.filter(key_hash=_hash(key or ""), is_active=True).first() if key else None
    if partner is None:
        raise NotPermitted("api_key 无效或已停用", rule="api_key")
    PartnerKey.objects.filter(pk=partner.pk).update(last_used_at=timezone.now())
    return partner


def partner_ref(partner: PartnerKey) -> str:
    """The external_ref that marks a ticket as filed by this partner."""
    return f"open311:{partner.pk}"
