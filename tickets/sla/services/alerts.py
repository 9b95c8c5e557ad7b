"""Alerts for the admins (shown in the admin site): one open row per key, counted, resolved once fixed."""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from tickets.sla.models import AdminAlert

log = logging.getLogger("tickets.alerts")


def alert_raise(
    *, kind: str, key: str, title: str, message: str = "", data: dict[str, Any] | None = None
) -> AdminAlert:
    """Open the alert `key`, or count one more occurrence of it (re-opened if it was resolved)."""
    data = data or {}
    alert = AdminAlert.objects.select_for_update().filter(key=key).first()
    if alert is None:
        try:
            with transaction.atomic():
                alert = AdminAlert.objects.create(kind=kind, key=key, title=title, message=message, data=data)
                log.warning("admin alert: %s", title)
                return alert
        except IntegrityError:  # raised by a concurrent first occurrence: count ours on its row
            alert = AdminAlert.objects.select_for_update().get(key=key)
    merged = dict(alert.data)
    for name, value in data.items():
        if isinstance(value, list) and isinstance(merged.get(name), list):
            merged[name] = list(dict.fromkeys([*merged[name], *value]))[-1000:]
        else:
            merged[name] = value
    AdminAlert.objects.filter(pk=alert.pk).update(
        occurrences=F("occurrences") + 1,
        data=merged,
        last_seen_at=timezone.now(),
        resolved_at=None,
        resolution="",
        title=title,
        message=message,
    )
    alert.refresh_from_db()
    return alert


def alert_resolve(*, key: str, resolution: str) -> bool:
    return bool(
        AdminAlert.objects.filter(key=key, resolved_at__isnull=True).update(
            resolved_at=timezone.now(), resolution=resolution
        )
    )
