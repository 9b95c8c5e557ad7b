"""未评价办结: a rating request unanswered for N days (city profile, default 7) closes the ticket."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.conf import settings

from tests.rating.test_sms_and_web import sms
from tickets.core.models import Ticket
from tickets.feedback import tasks as feedback_tasks
from tickets.feedback.models import Rating, RatingCallback
from tickets.sla.models import CityProfile

START = datetime(2026, 11, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_the_expiry_task_is_scheduled() -> None:
    assert settings.CELERY_BEAT_SCHEDULE["rating-expire-due"]["task"] == "tickets.tasks.rating_expire_due"


def test_an_unanswered_request_closes_the_ticket_as_unrated_after_seven_days(
    city: Any, web: Any, ticket_in_rating: Any
) -> None:
    with time_machine.travel(START, tick=False) as clock:
        ticket = ticket_in_rating("+8613600136000")
        clock.move_to(START + timedelta(days=6, hours=23))
        assert feedback_tasks.rating_expire_due() == 0
        assert Ticket.objects.get(pk=ticket.pk).state == "rating"
        clock.move_to(START + timedelta(days=7, minutes=1))
        assert feedback_tasks.rating_expire_due() == 1

        ticket.refresh_from_db()
        assert (ticket.state, ticket.outcome) == ("closed", "unrated")
        assert ticket.events.filter(to_state="closed", actor_kind="scheduler").exists()
        assert RatingCallback.objects.get(ticket=ticket).status == "cancelled"
        assert feedback_tasks.rating_expire_due() == 0  # idempotent
        sms(web, "SMlate", "1")  # a late reply is no rating any more
        assert not Rating.objects.exists()


def test_the_expiry_follows_the_city_profile(city: Any, ticket_in_rating: Any) -> None:
    CityProfile.objects.update(rating_expiry_days=3)
    from django.core.cache import cache

    cache.clear()
    with time_machine.travel(START, tick=False) as clock:
        ticket = ticket_in_rating("+8613600136000")
        clock.move_to(START + timedelta(days=3, minutes=1))
        feedback_tasks.rating_expire_due()
    assert Ticket.objects.get(pk=ticket.pk).outcome == "unrated"


def test_a_rated_ticket_is_not_expired(city: Any, web: Any, ticket_in_rating: Any) -> None:
    with time_machine.travel(START, tick=False) as clock:
        ticket = ticket_in_rating("+8613600136000")
        sms(web, "SMok", "1")
        clock.move_to(START + timedelta(days=8))
        assert feedback_tasks.rating_expire_due() == 0
    assert Ticket.objects.get(pk=ticket.pk).outcome == "resolved"
