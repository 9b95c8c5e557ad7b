"""`{{ ticket|ticket_link }}`: every ticket number on every page is a link to the one ticket page.

One place, so a list cannot forget it: the console (queue, live list, reviews), the board, the
drill-down, the unit inbox and the duplicate candidates all print numbers through this filter.
Accepts a Ticket, or any object/dict with `number` and `id`/`pk` (a duplicate candidate).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


def _get(obj: Any, *names: str) -> Any:
    for name in names:
        value = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
        if value not in (None, ""):
            return value
    return None


@register.filter
def ticket_link(ticket: Any, where: str = "") -> SafeString | str:
    """`|ticket_link:"new"` opens it in a new tab (the console's form keeps what the operator typed)."""
    number = _get(ticket, "number")
    pk = _get(ticket, "pk", "id", "ticket_id")
    if number is None:
        return ""
    if pk is None:
        return str(number)
    target = mark_safe(' target="_blank" rel="noopener"') if where == "new" else ""
    return format_html(
        '<a class="ticket-link" href="{}" data-testid="ticket-link-{}"{}>{}</a>',
        reverse("ticket-page", args=[pk]),
        number,
        target,
        number,
    )
