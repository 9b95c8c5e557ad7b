"""The citizen's own rating paths end to end: an SMS reply and the signed web page, round by round."""

from __future__ import annotations

from typing import Any

from tests.intake.conftest import payload, twilio_post
from tickets.core.actors import Actor
from tickets.core.models import Ticket
from tickets.core.services import workflow
from tickets.feedback.models import Rating, RatingRequest
from tickets.feedback.services import rating


def sms(client: Any, sid: str, body: str, frm: str = "+8613600136000") -> Any:
    return twilio_post(
        client, "/webhooks/twilio/sms/", payload("sms_incoming", MessageSid=sid, SmsSid=sid, Body=body, From=frm)
    )


def _replay_round(ticket: Ticket, user: Any) -> None:
    lead = ticket.assignments.filter(role="lead").order_by("-round", "-id").first()
    workflow.assignment_sign(assignment=lead, actor=Actor.of(user("rsj_staff")))
    workflow.assignment_reply(assignment=lead, actor=Actor.of(user("rsj_staff")), text="已再次督促企业发放")
    workflow.ticket_review_reply(ticket=ticket, actor=Actor.of(user("dispatcher1")), accept=True)


def test_sms_rates_round_one_and_the_web_page_rates_round_two_after_a_reopen(
    city: Any, web: Any, api: Any, user: Any, ticket_in_rating: Any
) -> None:
    ticket = ticket_in_rating("+8613600136000")
    old_link = rating.rating_link(ticket).removeprefix("https://12345.example.cn")
    sms(web, "SMe1", "3")
    first = Rating.objects.get(ticket=ticket)
    assert (first.satisfaction, first.channel, first.round) == ("dissatisfied", "sms", 1)
    assert Ticket.objects.get(pk=ticket.pk).state == "closed"

    workflow.ticket_reopen(ticket=ticket, actor=Actor.of(user("supervisor1")), reason="市民反映工资仍未到账")
    _replay_round(Ticket.objects.get(pk=ticket.pk), user)
    ticket.refresh_from_db()
    assert ticket.state == "rating" and ticket.reopen_count == 1
    assert RatingRequest.objects.filter(ticket=ticket).count() == 2

    assert web.get(old_link).status_code == 404  # round 1's link is outdated
    link = rating.rating_link(ticket).removeprefix("https://12345.example.cn")
    done = web.post(link, {"satisfaction": "satisfied", "solved": "yes", "contacted": "yes", "comment": ""})
    assert done.status_code == 200 and "感谢评价" in done.content.decode()
    second = Rating.objects.get(ticket=ticket, round=2)
    assert (second.satisfaction, second.channel) == ("satisfied", "web")
    assert Ticket.objects.get(pk=ticket.pk).state == "closed"
    assert set(RatingRequest.objects.filter(ticket=ticket).values_list("state", flat=True)) == {"answered"}
