"""Service levels (GB/T 33358) on hand-built call sets, the expected figures worked out by hand:
the 15 s boundary counts as answered in time, and a hang-up within the first 5 s is a short
abandon, left out of the offered calls under the default rule (docs/callcentre.md)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tickets.callcentre import levels
from tickets.callcentre.levels import CallFacts, Rule
from tickets.callcentre.models import Desk, QueuedCall
from tickets.callcentre.selectors import service_levels
from tickets.intake.models import Call, CallbackTask

SH = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 12, 2, 9, 0, tzinfo=SH)


def call(
    outcome: str, wait: int, handle: int | None = None, *, minutes: int = 0, called_back_after: float | None = None
) -> CallFacts:
    start = AT + timedelta(minutes=minutes)
    ended = start + timedelta(seconds=wait)
    done = ended + timedelta(hours=called_back_after) if called_back_after is not None else None
    return CallFacts(
        enqueued_at=start,
        outcome=outcome,
        wait_seconds=wait,
        handle_seconds=handle,
        ended_at=ended,
        callback_done_at=done,
    )


CALLS = [
    call("bridged", 15, 100),  # 1: exactly 15 s: answered in time
    call("bridged", 16, 200),  # 2: one second late
    call("bridged", 3, 60),  # 3
    call("abandoned", 4),  # 4: hung up within 5 s: a short abandon
    call("abandoned", 5, called_back_after=3),  # 5: 5 s is not short; abandoned before 15 s; called back late
    call("abandoned", 40, called_back_after=1),  # 6: abandoned after 15 s; called back within 2 h
    call("overflow", 180),  # 7: left for the IVR
    call("bridged", 30, 140),  # 8
]


def test_the_default_rule_leaves_short_abandons_out_of_the_offered_calls() -> None:
    figures = levels.figures(CALLS, Rule(target_seconds=15, short_seconds=5, short_excluded=True, callback_hours=2))
    # offered: 8 calls less the short abandon (#4) = 7; answered #1 #2 #3 #8 = 4; in 15 s: #1 #3 = 2
    assert (figures["offered"], figures["answered"], figures["answered_within_target"]) == (7, 4, 2)
    assert (figures["abandoned"], figures["abandoned_within_target"], figures["abandoned_after_target"]) == (2, 1, 1)
    assert (figures["short_abandons"], figures["overflow"]) == (1, 1)
    assert figures["service_level"] == pytest.approx(0.2857)  # 2 / 7  (15秒接通率)
    assert figures["connection_rate"] == pytest.approx(0.5714)  # 4 / 7  (接通率)
    assert figures["loss_rate"] == pytest.approx(0.2857)  # 2 / 7  (呼损率)
    assert figures["average_wait"] == 16.0  # (15 + 16 + 3 + 30) / 4
    assert figures["longest_wait"] == 180
    assert figures["average_handle"] == 125.0  # (100 + 200 + 60 + 140) / 4
    # every abandoned call is called back, short ones too: 3 due, #6 within 2 h
    assert (figures["callbacks_due"], figures["callbacks_within_target"]) == (3, 1)
    assert figures["rule"] == "排队5秒内挂断的来电不计入呼入量"


def test_the_other_rule_counts_every_call_that_entered_the_queue() -> None:
    figures = levels.figures(CALLS, Rule(target_seconds=15, short_seconds=5, short_excluded=False))
    assert (figures["offered"], figures["answered"], figures["abandoned"]) == (8, 4, 3)
    assert figures["service_level"] == 0.25  # 2 / 8
    assert figures["connection_rate"] == 0.5  # 4 / 8
    assert figures["loss_rate"] == 0.375  # 3 / 8
    assert figures["rule"] == "所有进入队列的来电均计入呼入量"


def test_no_calls_give_no_rates_rather_than_a_division_by_zero() -> None:
    figures = levels.figures([], Rule())
    assert figures["offered"] == 0 and figures["service_level"] is None and figures["average_wait"] is None


def test_figures_by_hour_day_desk_and_operator_from_the_stored_calls(city: Any, user: Any) -> None:
    general = Desk.objects.get(code="general")
    enterprise = Desk.objects.create(code="enterprise", name="企业专席", digit="1")
    rows = [  # (desk, minutes after 09:00, outcome, wait, handle, operator)
        (general, 0, "bridged", 10, 120, "operator1"),
        (general, 30, "bridged", 20, 60, "operator2"),
        (enterprise, 70, "abandoned", 30, None, ""),
        (enterprise, 75, "bridged", 15, 90, "operator1"),
    ]
    for n, (desk, minutes, outcome, wait, handle, who) in enumerate(rows):
        at = AT + timedelta(minutes=minutes)
        with time_machine.travel(at, tick=False):
            c = Call.objects.create(call_sid=f"CA{n:032d}", phone="+8613800000000")
            QueuedCall.objects.create(call=c, desk=desk, enqueued_at=at, outcome=outcome, wait_seconds=wait,
                                      handle_seconds=handle, operator=user(who) if who else None)  # fmt: skip
            if outcome == "abandoned":
                CallbackTask.objects.create(
                    call=c, phone=c.phone, reason="排队挂断", state="done", done_at=at + timedelta(minutes=30)
                )
    found = service_levels(start=AT, end=AT + timedelta(days=1))
    total = found["total"]
    assert (total["offered"], total["answered"], total["answered_within_target"]) == (4, 3, 2)
    assert total["callbacks_within_target"] == 1
    assert [(h["key"], h["offered"], h["answered"]) for h in found["by_hour"]] == [("09", 2, 2), ("10", 2, 1)]
    assert [(d["key"], d["connection_rate"]) for d in found["by_desk"]] == [("企业专席", 0.5), ("普通话综合", 1.0)]
    assert [(o["key"], o["answered"], o["average_handle"]) for o in found["by_operator"]] == [
        ("operator1", 2, 105.0), ("operator2", 1, 60.0), ("—", 0, None)
    ]  # fmt: skip
    assert found["by_day"][0]["key"] == "2026-12-02"
    assert found["targets"] == {"answer_seconds": 15, "connection_rate": 0.95}
