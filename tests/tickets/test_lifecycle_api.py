"""The whole loop through the HTTP API, as the centre and the units would drive it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tickets.core.models import Assignment, Ticket, TicketEvent
from tickets.messaging.models import SmsMessage

from .helpers import dispatched, lead_of, new_ticket


def test_a_ticket_goes_from_intake_to_closed_through_the_api(api, units, cats) -> None:
    operator, dispatcher, unit = api("operator1"), api("dispatcher1"), api("rsj_staff")

    created = operator.post(
        "/api/tickets/",
        {"text": "公司拖欠我三个月工资，老板失联，请求帮助。", "kind": "help", "citizen_phone": "138 1234 1234"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["state"] == "dispatching" and body["citizen_phone"] == "+8613812341234"
    assert len(body["number"]) == 14

    tid = body["id"]
    r = dispatcher.post(
        f"/api/tickets/{tid}/dispatch/", {"lead_unit": units["rsj"].pk, "category": cats["tqgz"].pk}, format="json"
    )
    assert r.status_code == 200 and r.json()["state"] == "in_progress"
    assignment = r.json()["assignments"][0]
    assert assignment["state"] == "pending_sign" and assignment["sign_due_at"] and assignment["reply_due_at"]

    assert unit.post(f"/api/assignments/{assignment['id']}/sign/", {}, format="json").json()["state"] == "signed"
    r = unit.post(
        f"/api/assignments/{assignment['id']}/reply/", {"text": "已联系企业，工资已于本周发放。"}, format="json"
    )
    assert r.json()["state"] == "replied"
    assert Ticket.objects.get(pk=tid).state == "replied"

    r = dispatcher.post(f"/api/tickets/{tid}/review/", {"accept": True}, format="json")
    assert r.json()["state"] == "rating"
    r = operator.post(f"/api/tickets/{tid}/close/", {"reason": "回访满意"}, format="json")
    assert r.json()["state"] == "closed" and r.json()["outcome"] == "resolved"

    actions = list(TicketEvent.objects.filter(ticket_id=tid).values_list("action", flat=True))
    assert actions == [
        "created",
        "classified",  # no model in tests by default: unsure, so a human dispatches
        "await_dispatch",
        "category_changed",
        "dispatch",
        "assignment_created",
        "sign",
        "reply",
        "lead_replied",
        "review_accept",
        "request_rating",
        "callback_scheduled",  # a phone ticket: 回访 the next day
        "close",
    ]


def test_routing_catalogue_dispatches_territorial_matter_to_the_district(units, cats) -> None:
    ticket = new_ticket(category=cats["zswr"], district=units["donghu-xinhua"])
    assert ticket.state == "in_progress" and ticket.lead_unit == units["donghu"]
    assert {a.unit.code for a in ticket.assignments.all()} == {"donghu", "sthjj"}


def test_a_functional_matter_is_never_pushed_down_to_a_street(api, units, cats) -> None:
    ticket = new_ticket(category=cats["tqgz"], district=units["donghu-xinhua"])
    assert ticket.lead_unit == units["rsj"]
    other = new_ticket(category=cats["tqgz"], auto_route=False)
    r = api("dispatcher1").post(
        f"/api/tickets/{other.pk}/dispatch/", {"lead_unit": units["donghu-xinhua"].pk}, format="json"
    )
    assert r.status_code == 400 and r.json()["rule"] == "functional_not_to_street"
    assert (
        Ticket.objects.get(pk=other.pk).state == "registered" and not Assignment.objects.filter(ticket=other).exists()
    )


def test_a_unit_returns_a_ticket_and_the_centre_redispatches_it(api, units) -> None:
    ticket, assignment = dispatched(units["zjj"])
    r = api("zjj_staff").post(
        f"/api/assignments/{assignment.pk}/request-return/", {"reason": "不属于本单位职责"}, format="json"
    )
    assert r.status_code == 400 and r.json()["field"] == "legal_basis"
    r = api("zjj_staff").post(
        f"/api/assignments/{assignment.pk}/request-return/",
        {"reason": "属于人社部门职责", "legal_basis": "《劳动保障监察条例》第三条"},
        format="json",
    )
    assert r.json()["state"] == "return_requested"
    r = api("dispatcher1").post(
        f"/api/assignments/{assignment.pk}/decide-return/",
        {"approve": True, "redispatch_to": units["rsj"].pk},
        format="json",
    )
    assert r.json()["state"] == "returned"
    ticket.refresh_from_db()
    assert ticket.state == "in_progress" and ticket.lead_unit == units["rsj"] and ticket.units_passed == 2


def test_a_rejected_return_goes_back_to_where_it_was(api, units) -> None:
    _, assignment = dispatched(units["zjj"])
    api("zjj_staff").post(f"/api/assignments/{assignment.pk}/sign/", {}, format="json")
    api("zjj_staff").post(
        f"/api/assignments/{assignment.pk}/request-return/", {"reason": "r", "legal_basis": "b"}, format="json"
    )
    r = api("dispatcher1").post(f"/api/assignments/{assignment.pk}/decide-return/", {"approve": False}, format="json")
    assert r.status_code == 400 and r.json()["field"] == "reason"
    r = api("dispatcher1").post(
        f"/api/assignments/{assignment.pk}/decide-return/",
        {"approve": False, "reason": "属于本单位职责"},
        format="json",
    )
    assert r.json()["state"] == "signed"


def test_an_extension_moves_the_reply_deadline_once(api, units) -> None:
    _, assignment = dispatched(units["rsj"])
    staff = api("rsj_staff")
    staff.post(f"/api/assignments/{assignment.pk}/sign/", {}, format="json")
    until = (assignment.reply_due_at + timedelta(days=7)).isoformat()
    r = staff.post(
        f"/api/assignments/{assignment.pk}/request-extension/",
        {"until": until, "reason": "需要现场调查"},
        format="json",
    )
    assert r.json()["state"] == "extension_requested"
    r = api("supervisor1").post(f"/api/assignments/{assignment.pk}/decide-extension/", {"approve": True}, format="json")
    assert r.json()["state"] == "signed" and r.json()["reply_due_at"][:10] == until[:10]
    r = staff.post(
        f"/api/assignments/{assignment.pk}/request-extension/", {"until": until, "reason": "再延"}, format="json"
    )
    assert r.status_code == 409 and r.json()["rule"] == "extension_once"


def test_a_unit_passes_work_down_to_a_street_and_stays_responsible(api, units) -> None:
    ticket, assignment = dispatched(units["donghu"])
    district = api("donghu_staff")
    district.post(f"/api/assignments/{assignment.pk}/sign/", {}, format="json")
    r = district.post(
        f"/api/assignments/{assignment.pk}/redispatch/", {"child_unit": units["xishan-lihu"].pk}, format="json"
    )
    assert r.status_code == 400 and r.json()["rule"] == "descendant_only"
    r = district.post(
        f"/api/assignments/{assignment.pk}/redispatch/", {"child_unit": units["donghu-xinhua"].pk}, format="json"
    )
    assert r.status_code == 200 and r.json()["parent"] == assignment.pk
    street_list = api("donghu_xinhua_staff").get("/api/tickets/").json()["results"]
    assert [t["id"] for t in street_list] == [ticket.pk]
    assert lead_of(ticket).pk == assignment.pk  # the district is still the lead


def test_review_send_back_returns_the_reply_to_the_unit(api, units) -> None:
    ticket, assignment = dispatched(units["rsj"])
    staff = api("rsj_staff")
    staff.post(f"/api/assignments/{assignment.pk}/sign/", {}, format="json")
    staff.post(f"/api/assignments/{assignment.pk}/reply/", {"text": "已处理"}, format="json")
    r = api("dispatcher1").post(
        f"/api/tickets/{ticket.pk}/review/", {"accept": False, "reason": "答复过于简单"}, format="json"
    )
    assert r.json()["state"] == "in_progress"
    assignment.refresh_from_db()
    assert assignment.state == "signed" and assignment.ended_at is None


def test_reopen_creates_a_new_round_and_the_third_makes_a_problem_ticket(api, units) -> None:
    ticket, _ = dispatched(units["rsj"])
    for round_no in range(1, 4):
        lead = lead_of(ticket)
        staff = api("rsj_staff")
        staff.post(f"/api/assignments/{lead.pk}/sign/", {}, format="json")
        staff.post(f"/api/assignments/{lead.pk}/reply/", {"text": f"第{round_no}次答复"}, format="json")
        api("dispatcher1").post(f"/api/tickets/{ticket.pk}/review/", {"accept": True}, format="json")
        r = api("supervisor1").post(f"/api/tickets/{ticket.pk}/reopen/", {"reason": "市民反映仍未解决"}, format="json")
        assert r.status_code == 200
    ticket.refresh_from_db()
    assert ticket.reopen_count == 3 and ticket.is_problem
    assert lead_of(ticket).round == 4
    assert TicketEvent.objects.filter(ticket=ticket, action="escalated_problem").count() == 1


def test_merge_and_unmerge(api) -> None:
    master, child = new_ticket(auto_route=False), new_ticket(auto_route=False, phone="13900001111")
    r = api("operator1").post(
        f"/api/tickets/{child.pk}/merge/", {"master": master.pk, "reason": "同一事项"}, format="json"
    )
    assert r.json()["state"] == "merged" and r.json()["merged_into"] == master.number
    r = api("operator1").post(f"/api/tickets/{master.pk}/merge/", {"master": master.pk}, format="json")
    assert r.status_code == 400 and r.json()["rule"] == "merge_self"
    r = api("operator1").post(f"/api/tickets/{child.pk}/unmerge/", {"reason": "并错了"}, format="json")
    assert r.json()["state"] == "registered" and r.json()["merged_into"] is None


@pytest.mark.parametrize(
    ("outcome", "told"),
    [
        ("emergency_110", "您反映的紧急情况（工单号{number}）已转110处理：已告知。"),
        ("lawful_channel", "您反映的事项（工单号{number}）依法应通过其他途径办理：已告知。"),
        ("not_accepted", "您反映的事项（工单号{number}）不予受理，原因：已告知。"),
        ("abuse", None),
    ],
)
def test_out_of_scope_outcomes_end_the_ticket_with_a_reason(api, outcome: str, told: str | None) -> None:
    ticket = new_ticket(auto_route=False)
    SmsMessage.objects.all().delete()  # the 受理 notice; this test reads the outcome's
    r = api("operator1").post(f"/api/tickets/{ticket.pk}/out-of-scope/", {"outcome": outcome}, format="json")
    assert r.status_code == 400 and r.json()["field"] == "reason"
    r = api("operator1").post(
        f"/api/tickets/{ticket.pk}/out-of-scope/", {"outcome": outcome, "reason": "已告知"}, format="json"
    )
    assert r.json()["state"] == "out_of_scope" and r.json()["outcome"] == outcome
    # The citizen is told the outcome and its reason in writing; a 恶意来电 is told nothing.
    bodies = list(SmsMessage.objects.filter(ticket=ticket).values_list("body", flat=True))
    assert bodies == ([] if told is None else [f"【12345热线】{told.format(number=ticket.number)}回复TD退订"])


def test_direct_answer_closes_at_intake(api) -> None:
    ticket = new_ticket(auto_route=False, kind="consult")
    r = api("operator1").post(
        f"/api/tickets/{ticket.pk}/answer-directly/", {"answer": "可在政务服务网办理。"}, format="json"
    )
    assert r.json()["state"] == "answered_directly" and r.json()["closed_at"]


def test_roles_are_enforced_per_operation(api, units) -> None:
    ticket, assignment = dispatched(units["rsj"])
    r = api("operator1").post(f"/api/assignments/{assignment.pk}/sign/", {}, format="json")
    assert r.status_code == 403
    r = api("rsj_staff").post(f"/api/tickets/{ticket.pk}/close/", {}, format="json")
    assert r.status_code == 403
    r = api("rsj_staff").post("/api/tickets/", {"text": "单位人员不能受理"}, format="json")
    assert r.status_code == 403
    assert api(None).get("/api/tickets/").status_code == 401
