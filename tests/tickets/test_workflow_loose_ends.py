"""Loose ends of the workflow: work that outlived its ticket, its parent or its master.

Each test states what a unit, an operator or a citizen would notice: a refusal naming its rule that
changes nothing, assignments that end with their ticket (and stop being chased), a 回访 task that
leaves the queue once there is nothing left to ask.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tickets.core.actors import Actor
from tickets.core.models import Assignment, Ticket, TicketEvent
from tickets.core.services import workflow
from tickets.feedback.models import RatingCallback
from tickets.org.models import Role, Unit, User
from tickets.supervision.models import Supervision
from tickets.supervision.services import scanner

from .helpers import dispatched, lead_of, new_ticket


def _as(username: str) -> Actor:
    return Actor.of(User.objects.get(username=username))


def _post(client: Any, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(url, body or {}, format="json")


def _scan_far_ahead() -> Any:
    """One deadline scan a month from now, when every deadline of these tickets has long passed."""
    return scanner.deadlines_scan(now=timezone.now() + timedelta(days=30), fanout=lambda s, e: None)


def _inbox_ids(api: Any, username: str) -> list[int]:
    return [row["id"] for row in api(username).get("/api/assignments/").json()["results"]]


def _lead_with_assist(units: dict[str, Unit]) -> tuple[Ticket, Assignment, Assignment]:
    """A phone ticket for 人社局 (主办) with 生态环境局 assisting (协办)."""
    ticket = workflow.ticket_dispatch(
        ticket=new_ticket(auto_route=False),
        actor=_as("dispatcher1"),
        lead_unit=units["rsj"],
        assisting_units=[units["sthjj"]],
    )
    assist = ticket.assignments.get(unit=units["sthjj"])
    return ticket, lead_of(ticket), assist


def _to_rating(api: Any, ticket: Ticket, lead: Assignment) -> None:
    staff = api(f"{lead.unit.code}_staff")
    assert _post(staff, f"/api/assignments/{lead.pk}/sign/").status_code == 200
    assert _post(staff, f"/api/assignments/{lead.pk}/reply/", {"text": "已督促企业发放工资"}).status_code == 200
    assert _post(api("dispatcher1"), f"/api/tickets/{ticket.pk}/review/", {"accept": True}).json()["state"] == "rating"


# --- 1. 下派 twice to one child unit ----------------------------------------------------------


def test_a_unit_cannot_pass_the_same_work_down_twice_to_one_street(api, units) -> None:
    ticket, assignment = dispatched(units["donghu"])
    district = api("donghu_staff")
    _post(district, f"/api/assignments/{assignment.pk}/sign/")
    url = f"/api/assignments/{assignment.pk}/redispatch/"
    assert _post(district, url, {"child_unit": units["donghu-xinhua"].pk}).status_code == 200
    events = TicketEvent.objects.filter(ticket=ticket).count()

    again = _post(district, url, {"child_unit": units["donghu-xinhua"].pk})

    assert again.status_code == 409 and again.json()["rule"] == "redispatch_duplicate"
    assert "不能重复下派" in again.json()["detail"]
    assert ticket.assignments.filter(unit=units["donghu-xinhua"]).count() == 1
    assert TicketEvent.objects.filter(ticket=ticket).count() == events
    # Once the street has replied, the district may pass new work down to it.
    street_assignment = ticket.assignments.get(unit=units["donghu-xinhua"])
    street = api("donghu_xinhua_staff")
    _post(street, f"/api/assignments/{street_assignment.pk}/sign/")
    _post(street, f"/api/assignments/{street_assignment.pk}/reply/", {"text": "已现场处理"})
    assert _post(district, url, {"child_unit": units["donghu-xinhua"].pk}).status_code == 200


# --- 2. work on a ticket that has ended -------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("sign", {}),
        ("reply", {"text": "已处理"}),
        ("request-return", {"reason": "不属于本单位职责", "legal_basis": "《劳动保障监察条例》第三条"}),
        ("request-extension", {"until": "2099-01-01T00:00:00+08:00", "reason": "需要现场调查"}),
        ("redispatch", {"child_unit": "street"}),
    ],
)
@pytest.mark.parametrize("ended", ["closed", "merged", "out_of_scope", "answered_directly"])
def test_a_unit_cannot_act_on_an_assignment_whose_ticket_has_ended(
    api, units, action: str, body: dict[str, Any], ended: str
) -> None:
    ticket, assignment = dispatched(units["donghu"])
    district = api("donghu_staff")
    if action in ("reply", "request-extension", "redispatch"):
        _post(district, f"/api/assignments/{assignment.pk}/sign/")
    if body.get("child_unit") == "street":
        body = {"child_unit": units["donghu-xinhua"].pk}
    # The row the old code left behind: the ticket ended, its assignment still open.
    Ticket.objects.filter(pk=ticket.pk).update(state=ended)
    before = Assignment.objects.filter(ticket=ticket).values("id", "state", "ended_at")
    rows, events = list(before), TicketEvent.objects.filter(ticket=ticket).count()

    refused = _post(district, f"/api/assignments/{assignment.pk}/{action}/", body)

    assert refused.status_code == 409 and refused.json()["rule"] == "ticket_ended"
    assert "该工单已结束" in refused.json()["detail"]
    assert list(Assignment.objects.filter(ticket=ticket).values("id", "state", "ended_at")) == rows
    assert TicketEvent.objects.filter(ticket=ticket).count() == events


def test_closing_a_ticket_ends_its_open_assignments(api, units) -> None:
    ticket, lead, assist = _lead_with_assist(units)
    _to_rating(api, ticket, lead)
    assert _inbox_ids(api, "sthjj_staff") == [assist.pk]  # the 协办 never signed

    assert _post(api("operator1"), f"/api/tickets/{ticket.pk}/close/", {"reason": "回访满意"}).status_code == 200

    assist.refresh_from_db()
    assert assist.state == "cancelled" and assist.ended_at is not None
    ended = TicketEvent.objects.get(assignment=assist, action="cancel")
    assert (ended.from_state, ended.to_state) == ("pending_sign", "cancelled") and "办结" in ended.reason
    assert _inbox_ids(api, "sthjj_staff") == []
    assert _scan_far_ahead().total == 0 and not Supervision.objects.filter(assignment=assist).exists()
    refused = _post(api("sthjj_staff"), f"/api/assignments/{assist.pk}/sign/")
    assert refused.status_code == 409 and refused.json()["rule"] == "ticket_ended"


def test_a_ticket_ended_without_dispatch_ends_the_assignments_an_earlier_round_left_open(api, units) -> None:
    """重办, then the new round is returned: the first round's 协办 is still open when the ticket ends."""
    ticket, lead, assist = _lead_with_assist(units)
    _to_rating(api, ticket, lead)
    _post(api("supervisor1"), f"/api/tickets/{ticket.pk}/reopen/", {"reason": "市民反映仍未解决"})
    second = lead_of(ticket)
    _post(
        api("rsj_staff"),
        f"/api/assignments/{second.pk}/request-return/",
        {"reason": "属于其他部门职责", "legal_basis": "三定方案"},
    )
    _post(api("dispatcher1"), f"/api/assignments/{second.pk}/decide-return/", {"approve": True})
    ticket.refresh_from_db()
    assert ticket.state == "dispatching" and Assignment.objects.get(pk=assist.pk).state == "pending_sign"

    r = _post(
        api("operator1"), f"/api/tickets/{ticket.pk}/out-of-scope/", {"outcome": "lawful_channel", "reason": "已告知"}
    )

    assert r.status_code == 200 and r.json()["state"] == "out_of_scope"
    assist.refresh_from_db()
    assert assist.state == "cancelled" and assist.ended_at is not None
    assert not ticket.assignments.filter(ended_at__isnull=True).exists()
    assert _inbox_ids(api, "sthjj_staff") == []


# --- 3. 回访 tasks of a closed ticket ---------------------------------------------------------


def test_closing_a_ticket_takes_its_callback_out_of_the_operators_queue(api, units) -> None:
    ticket, lead = dispatched(units["rsj"])
    _to_rating(api, ticket, lead)
    callback = RatingCallback.objects.get(ticket=ticket)
    queue = api(callback.operator).get("/api/callbacks/rating/").json()["results"]
    assert [row["ticket_number"] for row in queue] == [ticket.number]

    assert (
        _post(api("operator1"), f"/api/tickets/{ticket.pk}/close/", {"reason": "市民电话表示满意"}).status_code == 200
    )

    callback.refresh_from_db()
    assert callback.status == "cancelled" and callback.done_at is not None and "办结" in callback.note
    assert api(callback.operator).get("/api/callbacks/rating/").json()["results"] == []
    assert api("supervisor1").get("/api/callbacks/rating/").json()["results"] == []


def test_reopening_a_ticket_in_rating_takes_that_rounds_callback_out_of_the_queue(api, units) -> None:
    ticket, lead = dispatched(units["rsj"])
    _to_rating(api, ticket, lead)
    callback = RatingCallback.objects.get(ticket=ticket)

    r = _post(api("supervisor1"), f"/api/tickets/{ticket.pk}/reopen/", {"reason": "市民反映仍未解决"})

    assert r.status_code == 200
    callback.refresh_from_db()
    assert callback.status == "cancelled" and "重办" in callback.note
    assert api(callback.operator).get("/api/callbacks/rating/").json()["results"] == []


def test_a_recorded_callback_stays_done_when_its_rating_closes_the_ticket(api, units) -> None:
    ticket, lead = dispatched(units["rsj"])
    _to_rating(api, ticket, lead)
    callback = RatingCallback.objects.get(ticket=ticket)
    body = {"reached": True, "contacted": True, "solved": True, "satisfaction": "satisfied"}

    done = _post(api(callback.operator), f"/api/callbacks/rating/{callback.pk}/record/", body)

    assert done.status_code == 200 and done.json()["status"] == "done"
    callback.refresh_from_db()
    assert callback.status == "done" and callback.rating is not None and callback.note == ""
    assert Ticket.objects.get(pk=ticket.pk).state == "closed"


# --- 4. the parent replies while its streets still work ---------------------------------------


def test_a_district_reply_ends_the_work_it_passed_down(api, units) -> None:
    ticket, district_assignment = dispatched(units["donghu"])
    district, street = api("donghu_staff"), api("donghu_xinhua_staff")
    community_unit = units["donghu-xinhua-c1"]
    community = api(User.objects.create(username="xinhua_c1_staff", role=Role.UNIT_STAFF, unit=community_unit))
    _post(district, f"/api/assignments/{district_assignment.pk}/sign/")
    r = _post(
        district, f"/api/assignments/{district_assignment.pk}/redispatch/", {"child_unit": units["donghu-xinhua"].pk}
    )
    street_assignment = Assignment.objects.get(pk=r.json()["id"])
    _post(street, f"/api/assignments/{street_assignment.pk}/sign/")
    r = _post(street, f"/api/assignments/{street_assignment.pk}/redispatch/", {"child_unit": community_unit.pk})
    community_assignment = Assignment.objects.get(pk=r.json()["id"])
    assert _inbox_ids(api, "donghu_xinhua_staff") == [street_assignment.pk]

    replied = _post(district, f"/api/assignments/{district_assignment.pk}/reply/", {"text": "区里已协调处理完毕"})

    assert replied.status_code == 200 and replied.json()["state"] == "replied"
    assert Ticket.objects.get(pk=ticket.pk).state == "replied"
    for child in (street_assignment, community_assignment):
        child.refresh_from_db()
        assert child.state == "cancelled" and child.ended_at is not None
        assert TicketEvent.objects.get(assignment=child, action="cancel").reason == "上级单位已办复"
    assert _inbox_ids(api, "donghu_xinhua_staff") == [] and community.get("/api/assignments/").json()["results"] == []
    assert _scan_far_ahead().total == 0
    late = _post(street, f"/api/assignments/{street_assignment.pk}/reply/", {"text": "街道已处理"})
    assert late.status_code == 409


# --- 5. 并单 of a master that has children ----------------------------------------------------


def test_a_ticket_with_merged_children_cannot_itself_be_merged(api) -> None:
    top = new_ticket(auto_route=False, phone="13900000001")
    middle = new_ticket(auto_route=False, phone="13900000002")
    child = new_ticket(auto_route=False, phone="13900000003")
    operator = api("operator1")
    assert (
        _post(operator, f"/api/tickets/{child.pk}/merge/", {"master": middle.pk, "reason": "同一事项"}).status_code
        == 200
    )
    events = TicketEvent.objects.count()

    refused = _post(operator, f"/api/tickets/{middle.pk}/merge/", {"master": top.pk, "reason": "同一事项"})

    assert refused.status_code == 409 and refused.json()["rule"] == "merge_has_children"
    assert "已有并入的工单" in refused.json()["detail"]
    middle.refresh_from_db()
    assert middle.state == "registered" and middle.merged_into is None
    assert TicketEvent.objects.count() == events
    # The way out the message names: move the child to the target master first, then merge.
    assert _post(operator, f"/api/tickets/{child.pk}/unmerge/", {"reason": "改并入主工单"}).status_code == 200
    assert (
        _post(operator, f"/api/tickets/{child.pk}/merge/", {"master": top.pk, "reason": "同一事项"}).status_code == 200
    )
    assert (
        _post(operator, f"/api/tickets/{middle.pk}/merge/", {"master": top.pk, "reason": "同一事项"}).status_code == 200
    )
