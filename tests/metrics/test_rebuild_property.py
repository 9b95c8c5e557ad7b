"""The incrementally kept unit-day rows equal a full rebuild after any sequence of workflow operations."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tickets.core.actors import Actor
from tickets.core.models import Assignment, Ticket
from tickets.core.services import workflow
from tickets.errors import DomainError
from tickets.feedback.models import Rating, RatingCallback
from tickets.feedback.services import callbacks, rating
from tickets.intake.services import intake
from tickets.metrics.models import UnitDayStats, UnitMonthStats
from tickets.metrics.services import scorecards
from tickets.org.models import Category, User
from tickets.supervision.services import scanner

OPS = (
    "new",
    "sign",
    "reply",
    "accept",
    "rate_sms",
    "callback",
    "return",
    "reopen",
    "expire",
    "wait",
    "scan",  # 督办 past the deadline: due and late on the deadline's day
    "send_back",  # the centre rejects a reply: its count is withdrawn
    "extend",  # an extension granted (possibly after the 督办): the overdue count is withdrawn
    "complete",  # the SMS follow-up: a rating becomes a valid callback
    "merge",  # 并单 / 重复来电 (four callers only, so links are often the same caller's)
    "unmerge",
    "handle",  # sign, reply and accept in one step, so that rounds reach the rating
)


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
    # Odd picks prefer a ticket at the step the operation needs, so rounds reach rating and beyond.
    wanted = {"accept": "replied", "send_back": "replied"}
    wanted |= dict.fromkeys(("rate_sms", "callback", "reopen"), "rating")
    if pick % 2 and op in wanted:
        ticket = next((t for t in reversed(tickets) if t.state == wanted[op]), ticket)
    lead = Assignment.objects.filter(ticket=ticket, role="lead").order_by("-round", "-id").first() if ticket else None
    needs = {"sign": "pending_sign", "reply": "signed", "extend": "signed"}
    if pick % 2 and op in needs:
        lead = Assignment.objects.filter(role="lead", state=needs[op]).order_by("-id").first() or lead
    if op == "new" or ticket is None:
        intake.ticket_create(
            actor=who["operator1"],
            channel="phone",
            text="公司拖欠工资",
            kind="complaint",
            citizen_phone=f"+86136001360{pick % 4:02d}",  # few callers: repeat calls happen
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
            callbacks.callback_record(
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
    elif op == "scan":
        scanner.deadlines_scan()
    elif op == "send_back":
        workflow.ticket_review_reply(ticket=ticket, actor=who["dispatcher1"], accept=False, reason="答非所问")
    elif op == "extend" and lead:
        until = (lead.reply_due_at or timezone.now()) + timedelta(days=1 + pick % 3)
        workflow.assignment_request_extension(assignment=lead, actor=who["rsj_staff"], until=until, reason="核查")
        workflow.assignment_decide_extension(assignment=lead, actor=who["dispatcher1"], approve=True, reason="同意")
    elif op == "complete":
        awaiting = Rating.objects.filter(channel="sms", contacted__isnull=True).order_by("-id").first()
        if awaiting:
            rating.rating_complete(
                rating=awaiting, actor=Actor.citizen(), contacted=pick % 2 == 0, solved=pick % 3 == 0
            )
    elif op == "merge" and len(tickets) > 1:
        other = tickets[(pick + 1) % len(tickets)]
        workflow.ticket_merge(ticket=ticket, master=other, actor=who["dispatcher1"], reason="同一事项")
    elif op == "handle":
        open_lead = Assignment.objects.filter(role="lead", parent=None, state__in=["pending_sign", "signed"])
        target = open_lead.order_by("-id").first()
        if target:
            if target.state == "pending_sign":
                workflow.assignment_sign(assignment=target, actor=who["rsj_staff"])
            workflow.assignment_reply(assignment=target, actor=who["rsj_staff"], text="已处理")
            workflow.ticket_review_reply(ticket=target.ticket, actor=who["dispatcher1"], accept=True)
    elif op == "unmerge":
        workflow.ticket_unmerge(ticket=ticket, actor=who["dispatcher1"], reason="误并")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
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
        scorecards.metrics_rebuild()
        assert _snapshot() == kept
