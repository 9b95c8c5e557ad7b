"""Small builders for tests: tickets pushed through the real services."""

from __future__ import annotations

from tickets.core.actors import Actor
from tickets.core.models import Assignment, Channel, Kind, Ticket, top_lead_q
from tickets.core.services import workflow
from tickets.intake.services import intake
from tickets.org.models import Category, Unit, User


def staff(unit: Unit) -> User:
    return User.objects.get(
        unit=unit, role="unit_staff", username__endswith="_staff", username__startswith=unit.code.replace("-", "_")
    )


def new_ticket(
    *,
    category: Category | None = None,
    district: Unit | None = None,
    text: str = "小区门口道路破损严重，雨天积水，影响出行。",
    phone: str = "13812341234",
    address: str = "演示市东湖区新华路1号",
    kind: str = Kind.COMPLAINT,
    auto_route: bool = True,
    **extra: object,
) -> Ticket:
    operator = User.objects.get(username="operator1")
    return intake.ticket_create(
        actor=Actor.of(operator),
        channel=Channel.PHONE,
        text=text,
        kind=kind,
        citizen_name="张先生",
        citizen_phone=phone,
        citizen_address=address,
        jurisdiction=district,
        category=category,
        auto_route=auto_route,
        **extra,  # type: ignore[arg-type]
    )


def dispatched(unit: Unit, **kwargs: object) -> tuple[Ticket, Assignment]:
    ticket = new_ticket(auto_route=False, **kwargs)  # type: ignore[arg-type]
    ticket = workflow.ticket_dispatch(
        ticket=ticket, actor=Actor.of(User.objects.get(username="dispatcher1")), lead_unit=unit
    )
    return ticket, lead_of(ticket)


def lead_of(ticket: Ticket) -> Assignment:
    found = Assignment.objects.filter(top_lead_q(), ticket=ticket).order_by("-round", "-id").first()
    assert found is not None
    return found
