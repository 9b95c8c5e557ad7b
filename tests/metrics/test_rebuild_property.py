"""The incrementally kept unit-day rows equal a full rebuild after any sequence of workflow operations."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tickets.errors import DomainError
from tickets.models import Assignment, Category, RatingCallback, Ticket, UnitDayStats, UnitMonthStats, User
from tickets.services import intake, metrics, rating, rating_callbacks, workflow
from tickets.services.actors import Actor

OPS = ("new", "sign", "reply", "accept", "rate_sms", "callback", "return", "reopen", "expire", "wait")


def _snapshot() -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for model in (UnitDayStats, UnitMonthStats):
        names = [f.attname for f in model._meta.fields if f.attname != "id"]
        rows += [(model.__name__, *row) for row in model.objects.values_list(*names)]
    return sorted(rows)


def _apply(op: str, pick: int, clock: Any) -> None:
    who = {name: Actor.of(User.objects.get(username=name)) for name in ("operator1", "rsj_staff", "dispatcher1")}
    tickets = list(Ticket.objects.order_by("id"))
    ticket = tickets[pick % len(tickets)] if tickets else None
    lead = Assignment.objects.filter(ticket=ticket, role="lead").order_by("-round", "-id").first() if ticket else None
    if op == "new" or ticket is None:
        intake.ticket_create(
            actor=who["operator1"],
            channel="phone",
            text="公司拖欠工资",
            kind="complaint",
            citizen_phone=f"+86136001360{pick % 100:02d}",
            category=Category.objects.get(code="tqgz"),
        )
    elif op == "sign" and lead:
        workflow.assignment_sign(assignment=lead, actor=who["rsj_staff"])
    elif op == "reply" and lead:
        workflow.assignment_reply(assignment=lead, actor=who["rsj_staff"], text="已处理")
    elif op == "accept":
        workflow.ticket_review_reply(ticket=ticket, actor=who["dispatcher1"], accept=True)
    elif op == "rate_sms":
        rating.rating_record(
            ticket=ticket,
            actor=Actor.citizen(),
            satisfaction=("satisfied", "basic", "dissatisfied")[pick % 3],
            channel="sms",
            solved=pick % 2 == 0,
        )
    elif op == "callback":
        callback = RatingCallback.objects.filter(ticket=ticket, status="open").first()
        if callback:
            rating_callbacks.callback_record(
                callback=callback,
                actor=Actor.of(callback.operator),
                reached=pick % 4 != 0,
                contacted=True,
                solved=pick % 3 == 0,
                satisfaction="dissatisfied",
                cause="subjective",
            )
    elif op == "return" and lead:
        workflow.assignment_request_return(
            assignment=lead, actor=who["rsj_staff"], reason="非本单位", legal_basis="三定"
        )
        workflow.assignment_decide_return(
            assignment=lead, actor=who["dispatcher1"], approve=True, reason="同意", redispatch_to=lead.unit
        )
    elif op == "reopen":
        workflow.ticket_reopen(ticket=ticket, actor=Actor.of(User.objects.get(username="supervisor1")), reason="不满意")
    elif op == "expire":
        clock.shift(timedelta(days=8))
        rating.rating_expire_due()
    elif op == "wait":
        clock.shift(timedelta(hours=5 + pick % 40))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 50)), min_size=3, max_size=25))
def test_incremental_rows_equal_a_rebuild(city: Any, steps: list[tuple[str, int]]) -> None:
    # Examples share the test's database: history accumulates, and the property holds over all of it.
    with time_machine.travel(datetime(2026, 11, 2, 9, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False) as clock:
        for op, pick in steps:
            try:
                with transaction.atomic():
                    _apply(op, pick, clock)
            except DomainError:
                pass  # refused operations change nothing, the counters included
        kept = _snapshot()
        assert kept  # the first step always files a ticket: dispatched and accepted rows exist
        metrics.metrics_rebuild()
        assert _snapshot() == kept
