"""Issue 17: the intake's 201 for a ticket waiting in the routing queue is written out by hand
(`TicketDetailOutput._accepted_output`) instead of by DRF's field machinery. It must be the serializer's body,
value for value, for every reader and every citizen flag: a difference is either a field one side
forgot or a privacy rule one side skipped."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tickets.core.actors import Actor
from tickets.core.apis.outputs import TicketDetailOutput
from tickets.core.models import Channel, Kind, RouteState, Ticket, Urgency
from tickets.intake.services import intake
from tickets.org.models import Category, Unit, User

pytestmark = pytest.mark.django_db

READERS = ("admin", "operator1", "dispatcher1", "supervisor1", "donghu_staff", "donghu_xinhua_staff", None)


class _Request:
    def __init__(self, user: User | None) -> None:
        self.user = user


def _generic(ticket: Ticket, reader: User | None) -> dict[str, Any]:
    """The body DRF builds field by field (the path every other ticket takes)."""
    serializer = TicketDetailOutput(ticket, context={"request": _Request(reader)})
    return dict(super(TicketDetailOutput, serializer).to_representation(ticket))


def _answer(ticket: Ticket, reader: User | None) -> dict[str, Any]:
    return dict(TicketDetailOutput(ticket, context={"request": _Request(reader)}).data)


@pytest.fixture
def queued(settings: Any) -> None:
    settings.ROUTING_INLINE = False  # the ticket stays in the routing queue, as behind a worker
    settings.INTAKE_LIMIT_PER_PHONE = (100000, 3600)  # many citizen intakes from few numbers
    settings.INTAKE_LIMIT_PER_IP = (100000, 3600)
    cache.clear()


numbers = st.sampled_from(["13800138000", "138 0013 8000", "+86 138-0013-8000", "0571-8888 1234", ""])
words = st.text(alphabet="路灯噪音小区门口东湖区新华街道王李张三号楼0123456789 ，。", min_size=0, max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    phone=numbers,
    name=st.sampled_from(["", "张三", "李四光"]),
    address=st.sampled_from(["", "东湖区新华街道幸福路1号", "幸福小区3号楼"]),
    before=words,
    after=words,
    flags=st.sampled_from([(False, False), (True, False), (False, True), (True, True)]),
    channel=st.sampled_from([c.value for c in Channel]),
    kind=st.sampled_from([k.value for k in Kind]),
    urgency=st.sampled_from([u.value for u in Urgency]),
    given_place=st.booleans(),
    given_category=st.booleans(),
    by_citizen=st.booleans(),
    raw=st.booleans(),
)
def test_the_written_out_answer_is_the_serializers_for_every_reader(
    city: Any,
    user: Callable[[str], User],
    queued: None,
    phone: str,
    name: str,
    address: str,
    before: str,
    after: str,
    flags: tuple[bool, bool],
    channel: str,
    kind: str,
    urgency: str,
    given_place: bool,
    given_category: bool,
    by_citizen: bool,
    raw: bool,
) -> None:
    confidential, anonymous = flags
    text = f"{before}我的电话{phone}，住在{address}，{name}反映{after}路灯不亮"
    ticket = intake.ticket_create(
        actor=Actor.citizen() if by_citizen else Actor.of(user("operator1")),
        channel=channel,
        kind=kind,
        urgency=urgency,
        title=f"{name}{phone}"[:30],
        text=text,
        citizen_name=name,
        citizen_phone=phone.replace(" ", "").replace("-", "") if phone.startswith(("1", "+")) else "",
        citizen_address=address,
        confidential=confidential,
        anonymous=anonymous,
        jurisdiction=Unit.objects.get(code="donghu") if given_place else None,
        category=Category.objects.filter(is_active=True).order_by("id").first() if given_category else None,
        raw={"from": phone, "body": text} if raw else None,
    )
    assert ticket.route_state == RouteState.PENDING  # the accepted-only answer applies
    for username in READERS:
        reader = None if username is None else user(username)
        assert _answer(ticket, reader) == _generic(ticket, reader), username


def test_the_accept_answers_with_its_history_and_hides_the_number_from_a_unit(
    city: Any, user: Callable[[str], User], queued: None, api: Any
) -> None:
    response = api("operator1").post(
        "/api/tickets/",
        {"channel": "web", "text": "幸福小区门口路灯坏了，电话13800138000", "citizen_phone": "13800138000"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["route_state"] == "pending"
    assert [event["action"] for event in body["history"]] == ["created"]
    assert body["citizen_phone"] == "+8613800138000"  # the centre sees the number
    ticket = Ticket.objects.get(pk=body["id"])
    ticket.accepted_history = list(ticket.events.all())  # type: ignore[attr-defined]
    unit_view = _answer(ticket, user("donghu_staff"))
    assert "13800138000" not in str(unit_view)  # a unit reader would not
    assert unit_view == _generic(ticket, user("donghu_staff"))
