"""Intake reads: the operators' open 未接来电回拨 tasks."""

from __future__ import annotations

from typing import Any

from tickets.intake.models import CallbackTask, MissedCallState


def callbacks_open(*, limit: int = 50) -> list[Any]:
    return list(CallbackTask.objects.filter(state=MissedCallState.OPEN).select_related("call").order_by("id")[:limit])
