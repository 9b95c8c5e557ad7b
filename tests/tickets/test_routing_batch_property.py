"""The routing worker's batch and the single-ticket path decide alike: same assignments, deadlines,
events and scorecard counters for the same accepted tickets (the rules are shared, this holds them)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tickets.core.actors import Actor
from tickets.core.models import Assignment, Kind, RouteState, Ticket, TicketEvent, Urgency
from tickets.core.services.events import events_batched, events_react_every
from tickets.intake.services import intake, routing_batch
from tickets.metrics.models import UnitDayStats, UnitMonthStats
from tickets.org.models import Category, Unit, User

TEXTS = [
    "本人在高新区某科技公司工作，公司已拖欠三个月工资共两万余元，老板失联，请求帮助讨薪。",
    "东湖区新华街道幸福小区门口的路灯已经坏了一个多月，晚上出行很不安全，请尽快派人维修。",
    "小区楼下烧烤店每天营业到凌晨两点，噪音和油烟严重影响居民休息，希望城管部门管一管。",
    "西山区丽湖街道工地夜间施工噪声扰民，已经持续一周。",
    "自来水已经停了两天没有任何通知，家里有老人孩子生活很不方便，请问什么时候恢复供水？",
    "咨询一下办理居住证需要哪些材料。",
    "啊啊啊",
]
ADDRESSES = ["", "演示市东湖区新华路1号", "南城区永安街道", "北塘区"]
CATEGORIES = [None, "zswr", "tqgz", "wztc", "sdq"]
PLACES = [None, "donghu", "xishan-lihu", "beitang"]

intakes = st.lists(
    st.tuples(
        st.sampled_from(TEXTS),
        st.sampled_from(ADDRESSES),
        st.sampled_from(list(Kind.values)),
        st.sampled_from(list(Urgency.values)),
        st.sampled_from(CATEGORIES),
        st.sampled_from(PLACES),
    ),
    min_size=1,
    max_size=6,
)


class _Undo(Exception):
    pass


def _file(rows: list[tuple[Any, ...]]) -> list[Ticket]:
    operator = Actor.of(User.objects.get(username="operator1"))
    return [
        intake.ticket_create(
            actor=operator,
            channel="phone",
            text=text,
            citizen_address=address,
            kind=kind,
            urgency=urgency,
            citizen_phone="13812341234",
            category=Category.objects.get(code=category) if category else None,
            jurisdiction=Unit.objects.get(code=place) if place else None,
        )
        for text, address, kind, urgency, category, place in rows
    ]


def _outcome(tickets: list[Ticket]) -> dict[str, Any]:
    """Everything routing decided, with the run's own ids and numbers left out."""
    ids = [t.pk for t in tickets]
    ticket_fields = ("state", "lead_unit_id", "category_id", "category_source", "jurisdiction_id", "due_at",
                     "units_passed", "classification", "route_state")  # fmt: skip
    asg_fields = ("unit_id", "unit_path", "role", "state", "round", "dispatched_at", "sign_due_at", "reply_due_at",
                  "sla_policy_id", "calendar_gap_year", "warn_at", "supervise_at", "notice_at", "note")  # fmt: skip
    per_ticket = []
    for pk in ids:
        ticket = Ticket.objects.filter(pk=pk).values(*ticket_fields).get()
        assignments = list(Assignment.objects.filter(ticket_id=pk).order_by("id").values_list(*asg_fields))
        events = [
            (e.action, e.from_state, e.to_state, e.actor_kind, e.actor_id, e.reason, e.data,
             asg_fields and (e.assignment.unit_id if e.assignment else None))
            for e in TicketEvent.objects.filter(ticket_id=pk).select_related("assignment").order_by("id")
        ]  # fmt: skip
        per_ticket.append((ticket, assignments, events))
    counters = []
    for model in (UnitDayStats, UnitMonthStats):
        names = [f.attname for f in model._meta.fields if f.attname != "id"]
        counters += sorted((model.__name__, *row) for row in model.objects.values_list(*names))
    return {"tickets": per_ticket, "counters": counters}


def _run(rows: list[tuple[Any, ...]], *, batch: bool) -> dict[str, Any]:
    outcome: dict[str, Any] = {}
    try:
        with transaction.atomic():
            tickets = _file(rows)
            assert all(t.route_state == RouteState.PENDING for t in tickets)
            if batch:
                routing_batch.tickets_route_pending()
            else:
                with events_batched():  # the accepted tickets' `created` counted as the batch counts them
                    events_react_every(list(TicketEvent.objects.filter(ticket__in=tickets, action="created")))
                for ticket in tickets:
                    intake.ticket_route(ticket=ticket, dispatch_notice=False)
                Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(route_state=RouteState.DONE)
            outcome = _outcome(tickets)
            raise _Undo
    except _Undo:
        pass
    return outcome


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=intakes)
def test_a_batch_routes_as_ticket_by_ticket(city: Any, demo_model: Path, settings: Any, rows: list) -> None:
    settings.ROUTING_INLINE = False  # accepted tickets wait in the queue; the test routes them
    with time_machine.travel(datetime(2026, 11, 2, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        single = _run(rows, batch=False)
        batched = _run(rows, batch=True)
    assert batched == single
    assert any(e[0] in ("dispatch", "await_dispatch") for t in single["tickets"] for e in t[2])
