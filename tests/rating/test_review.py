"""不满意审核: a 不满意 on the unit's side waits for a supervisor, who rules 重办 or a closing explanation."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

from tickets.core.actors import Actor
from tickets.core.models import Assignment, Ticket
from tickets.core.services import workflow
from tickets.feedback.models import Rating, RatingCallback


def _dissatisfied_by_callback(api: Any, ticket: Ticket, cause: str = "subjective") -> Rating:
    callback = RatingCallback.objects.get(ticket=ticket, status="open")
    body = {
        "reached": True,
        "contacted": False,
        "solved": False,
        "satisfaction": "dissatisfied",
        "cause": cause,
        "comment": "工资仍未到账",
    }
    response = api(callback.operator).post(f"/api/callbacks/rating/{callback.pk}/record/", body, format="json")
    assert response.status_code == 200, response.json()
    return Rating.objects.get(pk=response.json()["rating"]["id"])


def _next_round(ticket: Ticket, user: Any) -> Ticket:
    lead = Assignment.objects.filter(ticket=ticket, role="lead").order_by("-round", "-id").first()
    workflow.assignment_sign(assignment=lead, actor=Actor.of(user("rsj_staff")))
    workflow.assignment_reply(assignment=lead, actor=Actor.of(user("rsj_staff")), text="已再次督促")
    workflow.ticket_review_reply(ticket=ticket, actor=Actor.of(user("dispatcher1")), accept=True)
    return Ticket.objects.get(pk=ticket.pk)


def test_only_subjective_dissatisfaction_enters_the_queue(city: Any, api: Any, ticket_in_rating: Any) -> None:
    subjective = _dissatisfied_by_callback(api, ticket_in_rating("+8613600136001"))
    _dissatisfied_by_callback(api, ticket_in_rating("+8613600136002"), cause="objective")
    queue = api("supervisor1").get("/api/ratings/dissatisfied/")
    assert [row["id"] for row in queue.json()["results"]] == [subjective.pk]
    assert queue.json()["results"][0]["lead_unit"]
    assert api("operator1").get("/api/ratings/dissatisfied/").status_code == 403
    assert api("rsj_staff").get("/api/ratings/dissatisfied/").status_code == 403


def test_reopen_sends_the_ticket_back_with_the_citizens_reason_and_a_new_deadline(
    city: Any, api: Any, ticket_in_rating: Any
) -> None:
    with time_machine.travel(datetime(2026, 11, 2, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False) as clock:
        ticket = ticket_in_rating("+8613600136000")
        old_due = Ticket.objects.get(pk=ticket.pk).due_at
        clock.shift(timedelta(days=3))
        rating = _dissatisfied_by_callback(api, ticket)
        done = api("supervisor1").post(
            f"/api/ratings/{rating.pk}/decide/", {"decision": "reopen", "reason": "单位未联系市民"}, format="json"
        )
    assert done.status_code == 200 and done.json()["review"] == "reopened"
    ticket.refresh_from_db()
    assert (ticket.state, ticket.reopen_count) == ("in_progress", 1)
    lead = Assignment.objects.filter(ticket=ticket, role="lead").order_by("-round").first()
    assert lead.round == 2 and lead.state == "pending_sign" and lead.unit.code == "rsj"
    assert "工资仍未到账" in ticket.events.filter(action="reopen").get().reason
    assert ticket.due_at and old_due and ticket.due_at > old_due
    assert api("supervisor1").get("/api/ratings/dissatisfied/").json()["results"] == []
    twice = api("supervisor1").post(
        f"/api/ratings/{rating.pk}/decide/", {"decision": "close", "reason": "重复操作"}, format="json"
    )
    assert twice.status_code == 409


def test_close_keeps_the_ticket_closed_with_a_recorded_explanation(city: Any, api: Any, ticket_in_rating: Any) -> None:
    ticket = ticket_in_rating("+8613600136000")
    rating = _dissatisfied_by_callback(api, ticket)
    refused = api("dispatcher1").post(f"/api/ratings/{rating.pk}/decide/", {"decision": "close", "reason": "x"})
    assert refused.status_code == 403
    blank = api("supervisor1").post(
        f"/api/ratings/{rating.pk}/decide/", {"decision": "close", "reason": ""}, format="json"
    )
    assert blank.status_code == 400
    done = api("supervisor1").post(
        f"/api/ratings/{rating.pk}/decide/", {"decision": "close", "reason": "诉求超出政策范围，已解释"}, format="json"
    )
    assert done.status_code == 200 and done.json()["review"] == "closed"
    assert Ticket.objects.get(pk=ticket.pk).state == "closed"
    event = ticket.events.get(action="dissatisfaction_closed")
    assert event.reason == "诉求超出政策范围，已解释" and event.actor.username == "supervisor1"


def test_the_third_reopen_through_review_makes_a_problem_ticket(
    city: Any, api: Any, user: Any, ticket_in_rating: Any
) -> None:
    ticket = ticket_in_rating("+8613600136000")
    for round_no in (1, 2, 3):
        rating = _dissatisfied_by_callback(api, ticket)
        assert rating.round == round_no
        api("supervisor1").post(
            f"/api/ratings/{rating.pk}/decide/", {"decision": "reopen", "reason": "仍未解决"}, format="json"
        )
        ticket.refresh_from_db()
        assert ticket.is_problem is (round_no == 3)
        ticket = _next_round(ticket, user)
    assert ticket.events.filter(action="escalated_problem").count() == 1
    assert RatingCallback.objects.filter(ticket=ticket).count() == 4  # one 回访 per round
