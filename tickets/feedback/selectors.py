"""Reads of ratings for pages and APIs."""

from __future__ import annotations

from tickets.core.models import Ticket
from tickets.feedback.models import Rating, Review


def dissatisfaction_under_review(ticket: Ticket) -> bool:
    """The citizen said 不满意 and the supervisor has not ruled yet (the ticket is closed meanwhile)."""
    return Rating.objects.filter(ticket=ticket, review=Review.PENDING).exists()
