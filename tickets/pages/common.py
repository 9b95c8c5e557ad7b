"""Shared plumbing for the staff pages: role checks and service errors as Chinese messages."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tickets.core import privacy
from tickets.core.models import Ticket
from tickets.core.states import ASSIGNMENT_TRANSITIONS, TICKET_TRANSITIONS, AssignmentState, TicketState
from tickets.errors import DomainError, NotFound
from tickets.org.models import Role, User

View = Callable[..., HttpResponse]


def role_required(*roles: str) -> Callable[[View], View]:
    """Login first; then the role (superusers pass). Wrong role → 404, so pages do not reveal themselves."""

    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not (user.is_superuser or getattr(user, "role", None) in roles):
                raise Http404(_("无权访问此页面"))
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                raise Http404(str(exc)) from exc

        return wrapped

    return decorate


CENTRE_PAGE_ROLES = (Role.OPERATOR, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)
UNIT_PAGE_ROLES = (Role.UNIT_STAFF,)


def posted_id(value: str | None) -> int | None:
    """A primary key from a form field, or None: "abc", "1\x00" or a number past 64 bits (which
    overflows SQLite's integers) is not an id."""
    text = (value or "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        return None
    return int(text)


def run_service(request: HttpRequest, action: Callable[[], Any], success: str) -> bool:
    """Call a service; its domain errors (already in Chinese) become a message on the next page."""
    try:
        action()
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    except DomainError as exc:
        messages.error(request, str(exc))
        return False
    messages.success(request, success)
    return True


def due_class(due: datetime | None, now: datetime | None = None) -> str:
    """Deadline colour: red when overdue, amber within 24 h (the JS repeats this every minute)."""
    if due is None:
        return "due-none"
    left = due - (now or timezone.now())
    if left < timedelta(0):
        return "due-red"
    if left < timedelta(hours=24):
        return "due-amber"
    return "due-ok"


def with_due(rows: Iterable[Any], attr: str) -> list[Any]:
    now = timezone.now()
    out = []
    for row in rows:
        row.due_css = due_class(getattr(row, attr), now)
        out.append(row)
    return out


# History rows in Chinese: transition labels from tickets.core.states, the rest named here.
OTHER_ACTIONS = {
    "created": gettext_lazy("受理"),
    "jurisdiction_found": gettext_lazy("识别属地"),
    "classified": gettext_lazy("智能分类"),
    "category_changed": gettext_lazy("人工修改分类"),
    "category_confirmed": gettext_lazy("确认智能分类"),
    "assignment_created": gettext_lazy("派单至单位"),
    "phone_revealed": gettext_lazy("查看完整号码"),
}


def history_rows(events: Iterable[Any], *, ticket: Ticket, reader: User) -> list[Any]:
    """History rows for a page: labels in Chinese, the actor and the reason as `tickets.core.privacy` lets
    this reader see them (`actor_label`, `reason_shown`)."""
    labels = {name: t.label for name, t in {**ASSIGNMENT_TRANSITIONS, **TICKET_TRANSITIONS}.items()}
    states = {**dict(AssignmentState.choices), **dict(TicketState.choices)}
    rows = []
    for event in events:
        event.action_label = labels.get(event.action) or OTHER_ACTIONS.get(event.action, event.action)
        event.state_label = states.get(event.to_state, event.to_state)
        event.actor_label = privacy.event_actor(event)
        event.reason_shown = privacy.citizen_text(event.reason, ticket, reader)
        rows.append(event)
    return rows
