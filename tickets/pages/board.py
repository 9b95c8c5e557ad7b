"""督办看板: overdue, due today/tomorrow and problem/flagged tickets, refreshed from the live feed.

Flagging (挂牌督办) and manual 督办 are services of the supervision branch; until they are in main
the board shows the state only.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tickets import selectors
from tickets.pages.common import CENTRE_PAGE_ROLES, role_required, with_due


def _context(request: HttpRequest) -> dict[str, Any]:
    groups = selectors.board_tickets(request.user)  # type: ignore[arg-type]
    return {
        "sections": [
            ("overdue", "已超期", with_due(groups["overdue"], "due_at")),
            ("due_soon", "今明两天到期", with_due(groups["due_soon"], "due_at")),
            ("problem", "问题工单与挂牌督办", with_due(groups["problem"], "due_at")),
        ]
    }


@require_GET
@role_required(*CENTRE_PAGE_ROLES)
def board(request: HttpRequest) -> HttpResponse:
    return render(request, "tickets/board/board.html", _context(request))


@require_GET
@role_required(*CENTRE_PAGE_ROLES)
def board_fragment(request: HttpRequest) -> HttpResponse:
    return render(request, "tickets/board/_board.html", _context(request))
