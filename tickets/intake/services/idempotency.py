"""Idempotency-Key: a retried request returns the first answer and does nothing again."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from tickets.errors import InvalidInput
from tickets.intake.models import IdempotencyRecord


class _Taken(Exception):
    pass


def _hash(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False).encode()).hexdigest()


def _stored(record: IdempotencyRecord, request_hash: str) -> tuple[int, dict[str, Any], bool]:
    if record.request_hash != request_hash:
        raise InvalidInput(
            "该 Idempotency-Key 已用于内容不同的请求", field="Idempotency-Key", rule="idempotency_mismatch"
        )
    return record.response_status, record.response_body, True


def run_once(
    *, scope: str, key: str, payload: Any, run: Callable[[], tuple[int, dict[str, Any]]]
) -> tuple[int, dict[str, Any], bool]:
    """(status, body, replayed). The record and the work commit together: a failed first try
    leaves no record, so the retry runs again; two tries at once run once (unique index)."""
    key = key.strip()
    if not key or len(key) > 128 or not key.isprintable():
        raise InvalidInput("Idempotency-Key 须为 1–128 个可打印字符", field="Idempotency-Key", rule="idempotency_key")
    request_hash = _hash(payload)
    found = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
    if found is not None:
        return _stored(found, request_hash)
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(scope=scope, key=key, request_hash=request_hash)
            except IntegrityError:
                raise _Taken from None
            status, body = run()
            record.response_status, record.response_body = status, body
            record.save(update_fields=["response_status", "response_body"])
    except _Taken:
        return _stored(IdempotencyRecord.objects.get(scope=scope, key=key), request_hash)
    return status, body, False


def idempotency_purge() -> int:
    """Daily: forget records past IDEMPOTENCY_KEEP (a retry comes within minutes; the console's form
    keys, one per ticket filed, would otherwise grow with the ticket table)."""
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - settings.IDEMPOTENCY_KEEP).delete()
    return deleted
