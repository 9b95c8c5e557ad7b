"""Service levels (GB/T 33358-2016 政府热线服务规范), pure: a list of calls in, figures out.

Definitions (docs/callcentre.md, with the source and the rule chosen for short abandons):
- offered (呼入人工): every call that entered a desk's queue, except short abandons when the rule
  excludes them (hung up within `short_seconds` of entering: CALLCENTRE_SHORT_ABANDON_*);
- answered (接通): bridged to an operator; within target: waited ≤ `target_seconds` (15 s);
- abandoned (放弃): hung up in the queue, split at the target (≤ 15 s / > 15 s);
  overflow: left the queue for the IVR (offered, not answered, not abandoned);
- 15秒接通率 = answered within target ÷ offered; 接通率 = answered ÷ offered;
  呼损率 = abandoned ÷ offered;
- average wait = mean wait of answered calls (speed of answer); longest wait = max over offered;
  AHT = mean talk time of answered calls (wrap-up not included);
- callbacks within target: abandoned calls whose 未接来电回拨 was done within `callback_hours`.
Every figure carries the rule it used (`rule`), so a report says which one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

BRIDGED, ABANDONED, OVERFLOW = "bridged", "abandoned", "overflow"


@dataclass(frozen=True)
class CallFacts:
    enqueued_at: datetime
    outcome: str  # bridged / abandoned / overflow (waiting and offered calls are not counted yet)
    wait_seconds: int
    handle_seconds: int | None = None
    desk: str = ""
    operator: str = ""
    callback_done_at: datetime | None = None
    ended_at: datetime | None = None


@dataclass(frozen=True)
class Rule:
    target_seconds: int = 15
    short_seconds: int = 5
    short_excluded: bool = True
    callback_hours: float = 2.0

    def label(self) -> str:
        if self.short_excluded:
            return f"排队{self.short_seconds}秒内挂断的来电不计入呼入量"
        return "所有进入队列的来电均计入呼入量"


def is_short_abandon(call: CallFacts, rule: Rule) -> bool:
    return call.outcome == ABANDONED and call.wait_seconds < rule.short_seconds


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def figures(calls: Iterable[CallFacts], rule: Rule) -> dict[str, Any]:
    done = [c for c in calls if c.outcome in (BRIDGED, ABANDONED, OVERFLOW)]
    short = [c for c in done if is_short_abandon(c, rule)]
    offered = [c for c in done if not (rule.short_excluded and is_short_abandon(c, rule))]
    answered = [c for c in offered if c.outcome == BRIDGED]
    within = [c for c in answered if c.wait_seconds <= rule.target_seconds]
    abandoned = [c for c in offered if c.outcome == ABANDONED]
    abandoned_early = [c for c in abandoned if c.wait_seconds <= rule.target_seconds]
    handled = [c.handle_seconds for c in answered if c.handle_seconds is not None]
    needs_callback = [c for c in done if c.outcome == ABANDONED]
    called_back = [
        c
        for c in needs_callback
        if c.callback_done_at is not None
        and c.callback_done_at - (c.ended_at or c.enqueued_at) <= timedelta(hours=rule.callback_hours)
    ]
    return {
        "offered": len(offered),
        "answered": len(answered),
        "answered_within_target": len(within),
        "abandoned": len(abandoned),
        "abandoned_within_target": len(abandoned_early),
        "abandoned_after_target": len(abandoned) - len(abandoned_early),
        "short_abandons": len(short),
        "overflow": len([c for c in offered if c.outcome == OVERFLOW]),
        "service_level": _rate(len(within), len(offered)),  # 15秒接通率
        "connection_rate": _rate(len(answered), len(offered)),  # 接通率
        "loss_rate": _rate(len(abandoned), len(offered)),  # 呼损率
        "average_wait": round(sum(c.wait_seconds for c in answered) / len(answered), 1) if answered else None,
        "longest_wait": max((c.wait_seconds for c in offered), default=None),
        "average_handle": round(sum(handled) / len(handled), 1) if handled else None,
        "callbacks_due": len(needs_callback),
        "callbacks_within_target": len(called_back),
        "rule": rule.label(),
    }


def grouped(calls: Iterable[CallFacts], rule: Rule, key: Callable[[CallFacts], str]) -> list[dict[str, Any]]:
    """The figures per group (hour, day, desk, operator), groups in key order."""
    groups: dict[str, list[CallFacts]] = {}
    for call in calls:
        groups.setdefault(key(call), []).append(call)
    return [{"key": name, **figures(rows, rule)} for name, rows in sorted(groups.items())]
