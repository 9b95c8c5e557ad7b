"""The bridge webhook's cost is pinned: it lies between the caller being connected and the
operator's pop (bench/callcentre), so every statement — and the queue lock held while they run —
is latency under load. It was 11 statements and 3 savepoint pairs on PostgreSQL before it was cut."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.callcentre.conftest import CC, LINE
from tests.intake.conftest import twilio_post

CALLER = "CA" + "b" * 32
LEG = "CA" + "e" * 32


def _statements(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]


def test_a_bridge_answers_in_nine_statements_and_pops_with_two(
    city: Any, ready: Any, post: Any, web: Any, seat_ear: Any, django_capture_on_commit_callbacks: Any
) -> None:
    operator = ready("operator1")
    ear = seat_ear(operator)
    post(f"{CC}/voice/", CallSid=CALLER, From="+8613912345678", To=LINE, CallStatus="ringing")
    post(f"{CC}/seat/?seat={operator.pk}", CallSid=LEG, From=LINE)
    bridge = {"CallSid": CALLER, "DequeingCallSid": LEG, "QueueTime": "4"}
    with CaptureQueriesContext(connection) as answered, django_capture_on_commit_callbacks() as after:
        assert twilio_post(web, f"{CC}/bridge/", bridge).status_code == 200
    # dedupe read, [queue lock], the caller, the seat, three updates, the seat's history row, the delivery
    assert len(_statements(answered)) == (9 if connection.vendor == "postgresql" else 8)
    with CaptureQueriesContext(connection) as popped:
        after[0]()  # the pop is the first thing after the commit
    assert len(_statements(popped)) == 2  # the caller's tickets, the SMS opt-out
    assert [m["envelope"]["payload"]["type"] for m in ear.messages()] == ["call.bridged"]
