"""Page views: thin adapters over selectors and services."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tickets.core.models import Ticket
from tickets.core.states import TicketState
from tickets.pages.auth import home_redirect


def home(request: HttpRequest) -> HttpResponse:
    if (target := home_redirect(request)) is not None:
        return target
    counts = {}
    if request.user.is_authenticated and getattr(request.user, "is_centre", False):
        counts = {str(TicketState(s).label): Ticket.objects.filter(state=s).count() for s in TicketState.values}
    return render(request, "tickets/home.html", {"counts": counts})
