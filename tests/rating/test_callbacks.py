"""回访: a phone ticket whose reply is accepted gets a callback task the next day, shared fairly."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

from tests.rating.test_sms_and_web import sms
from tickets.core.models import Ticket
from tickets.feedback.models import Rating, RatingCallback, RatingRequest

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_accepting_a_phone_ticket_queues_a_callback_for_9am_the_next_day(city: Any, ticket_in_rating: Any) -> None:
    with time_machine.travel(datetime(2026, 11, 3, 22, 30, tzinfo=SHANGHAI), tick=False):
        ticket = ticket_in_rating("+8613600136000")
    callback = RatingCallback.objects.get(ticket=ticket)
    assert callback.operator.username == "operator1" and callback.status == "open" and callback.round == 1
    assert callback.due_at == datetime(2026, 11, 4, 9, 0, tzinfo=SHANGHAI)
    request = RatingRequest.objects.get(ticket=ticket)
    assert (request.expires_at - request.requested_at).days == 7
    assert ticket.events.filter(action="callback_scheduled").exists()


def test_callbacks_go_to_the_operator_with_the_fewest_open_ones(
    city: Any, ticket_in_rating: Any, second_operator: Any
) -> None:
    owners = [
        RatingCallback.objects.get(ticket=ticket_in_rating(f"+86136001360{i:02d}")).operator.username for i in range(4)
    ]
    assert owners == ["operator1", "operator2", "operator1", "operator2"]


def test_an_operator_sees_only_their_own_queue(
    city: Any, api: Any, ticket_in_rating: Any, second_operator: Any
) -> None:
    first, second = ticket_in_rating("+8613600136001"), ticket_in_rating("+8613600136002")
    mine = api("operator1").get("/api/callbacks/rating/").json()["results"]
    assert [row["ticket_number"] for row in mine] == [first.number]
    assert mine[0]["citizen_phone"] == "+8613600136001"
    everyone = api("supervisor1").get("/api/callbacks/rating/").json()["results"]
    assert {row["ticket_number"] for row in everyone} == {first.number, second.number}
    assert api("rsj_staff").get("/api/callbacks/rating/").status_code == 403
    other = RatingCallback.objects.get(ticket=second)
    refused = api("operator1").post(f"/api/callbacks/rating/{other.pk}/record/", {"reached": False}, format="json")
    assert refused.status_code in (403, 404)
    assert RatingCallback.objects.get(pk=other.pk).status == "open"


def test_a_reached_callback_records_the_rating_and_closes_the_ticket(
    city: Any, api: Any, ticket_in_rating: Any
) -> None:
    ticket = ticket_in_rating("+8613600136000")
    callback = RatingCallback.objects.get(ticket=ticket)
    body = {
        "reached": True,
        "contacted": True,
        "solved": False,
        "satisfaction": "dissatisfied",
        "cause": "subjective",
        "comment": "单位没有上门核实",
    }
    done = api("operator1").post(f"/api/callbacks/rating/{callback.pk}/record/", body, format="json")

    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "done" and done.json()["rating"]["review"] == "pending"
    rating = Rating.objects.get(ticket=ticket)
    assert (rating.channel, rating.solved, rating.contacted, rating.cause) == ("phone", False, True, "subjective")
    assert Ticket.objects.get(pk=ticket.pk).state == "closed"
    assert RatingRequest.objects.get(ticket=ticket).state == "answered"
    again = api("operator1").post(f"/api/callbacks/rating/{callback.pk}/record/", body, format="json")
    assert again.status_code == 409 and Rating.objects.count() == 1


def test_an_unreached_callback_leaves_the_ticket_waiting(city: Any, api: Any, ticket_in_rating: Any) -> None:
    ticket = ticket_in_rating("+8613600136000")
    callback = RatingCallback.objects.get(ticket=ticket)
    done = api("operator1").post(
        f"/api/callbacks/rating/{callback.pk}/record/", {"reached": False, "comment": "无人接听"}, format="json"
    )
    assert done.status_code == 200 and done.json()["reached"] is False
    assert Ticket.objects.get(pk=ticket.pk).state == "rating" and not Rating.objects.exists()


def test_dissatisfied_needs_a_cause_and_a_rating_needs_its_answers(city: Any, api: Any, ticket_in_rating: Any) -> None:
    callback = RatingCallback.objects.get(ticket=ticket_in_rating("+8613600136000"))
    url = f"/api/callbacks/rating/{callback.pk}/record/"
    no_cause = {"reached": True, "contacted": True, "solved": False, "satisfaction": "dissatisfied"}
    assert api("operator1").post(url, no_cause, format="json").status_code == 400
    assert api("operator1").post(url, {"reached": True, "satisfaction": "satisfied"}, format="json").status_code == 400
    assert RatingCallback.objects.get(pk=callback.pk).status == "open" and not Rating.objects.exists()


def test_an_sms_rating_first_makes_the_callback_unnecessary(
    city: Any, api: Any, web: Any, ticket_in_rating: Any
) -> None:
    ticket = ticket_in_rating("+8613600136000")
    sms(web, "SMr1", "1")
    callback = RatingCallback.objects.get(ticket=ticket)
    assert callback.status == "cancelled"
    late = api("operator1").post(f"/api/callbacks/rating/{callback.pk}/record/", {"reached": False}, format="json")
    assert late.status_code == 409
    assert api("operator1").get("/api/callbacks/rating/").json()["results"] == []
