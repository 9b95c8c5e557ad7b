"""Shared plumbing for the staff pages: role checks and service errors as Chinese messages."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from tickets.core.models import OUT_OF_SCOPE_OUTCOMES, Outcome
from tickets.errors import DomainError, NotFound
from tickets.org.models import Role

View = Callable[..., HttpResponse]


def referring_page(request: HttpRequest) -> str:
    """The page on this site a form was posted from (its path and query), else the home page."""
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(referer)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return "/"


def _login_first(request: HttpRequest) -> HttpResponse:
    """Not signed in. A page comes back after login; a form posted after the session ended does not
    (its action answers POST only, and what was typed is gone): the login page says the action was not
    done and leads back to the page the form was on."""
    if request.method in ("GET", "HEAD"):
        return redirect_to_login(request.get_full_path())
    response = redirect_to_login(referring_page(request))
    response["Location"] += "&expired=1"
    return response


def post_only(view: View) -> View:
    """Django's require_POST, but a GET (an action's URL bookmarked, typed or reached some other way)
    is the site's Chinese page leading back, not an empty 405."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST":
            return view(request, *args, **kwargs)
        citizen = request.path.startswith("/citizen/")
        context = {
            "title": _("请从页面上的按钮操作"),
            "text": _("这个地址用于提交页面上的表单，不能直接打开。"),
            "steps": [_("返回上一页，在页面上点击相应的按钮完成操作。")],
            "reason": "",
            "status": 405,
            "back": referring_page(request) if not citizen else "/citizen/",
            "home": "/citizen/" if citizen else "/",
            "home_label": _("回到市民服务首页") if citizen else _("回到首页"),
        }
        response = HttpResponse(render_to_string("error.html", context), status=405)
        response["Allow"] = "POST"
        return response

    return wrapped


def role_required(*roles: str) -> Callable[[View], View]:
    """Login first; then the role (superusers pass). Wrong role → 404, so pages do not reveal themselves."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return _login_first(request)
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
# 不予派单 outcomes in the catalogue's order (转110 first: the one an operator needs fastest).
OUT_OF_SCOPE_CHOICES = [(value, label) for value, label in Outcome.choices if value in OUT_OF_SCOPE_OUTCOMES]


def posted_id(value: str | None) -> int | None:
    """A primary key from a form field, or None: "abc", "1\x00" or a number past 64 bits (which
    overflows SQLite's integers) is not an id."""
    text = (value or "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        return None
    return int(text)


def run_service(request: HttpRequest, action: Callable[[], Any], success: str) -> bool:
    """Call a service; its domain errors (already in Chinese) become a message on the next page, and
    the field at fault is kept on the request (`refused_field`) for a form shown again."""
    try:
        action()
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    except DomainError as exc:
        messages.error(request, str(exc))
        request.refused_field = exc.field or ""  # type: ignore[attr-defined]
        return False
    messages.success(request, success)
    return True


KEPT_KEY = "kept_form"  # a refused form's typed values, for the page it returns to
KEPT_MAX = 10_000  # characters kept per field: more than any field accepts


def form_keep(request: HttpRequest, *, where: str, action: str, names: Iterable[str]) -> None:
    """Keep what was typed in a refused form (the page redirects back, and a reply of 500 characters
    typed by a street clerk must not be lost to a wrong attachment), with the field at fault."""
    values = {name: request.POST.get(name, "")[:KEPT_MAX] for name in names}
    refused = getattr(request, "refused_field", "")
    request.session[KEPT_KEY] = {"where": where, "action": action, "values": values, "field": refused}


def form_kept(request: HttpRequest, *, where: str) -> dict[str, Any] | None:
    """The kept form for this page, once (a later visit shows empty forms again)."""
    kept = request.session.pop(KEPT_KEY, None)
    return kept if isinstance(kept, dict) and kept.get("where") == where else None


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


_TICKET_PAGE = re.compile(r"^/tickets/\d{1,18}/$")


def from_ticket_page(request: HttpRequest) -> bool:
    """Posted from the ticket page (its hidden `back`): the page names the ticket already."""
    return bool(_TICKET_PAGE.match(request.POST.get("back", "")))


def back_or(request: HttpRequest, default: str, **kwargs: Any) -> HttpResponse:
    """After an action posted from the ticket page (hidden field `back`), return to that ticket
    page; otherwise to the workspace the action belongs to. Only a ticket page path is followed
    (never an outside address)."""
    if from_ticket_page(request):
        return redirect(request.POST["back"])
    return redirect(default, **kwargs)


def form_keep_refused(
    request: HttpRequest, action: str, names: Iterable[str], *, ticket_id: int, elsewhere: str | None = "console"
) -> None:
    """A refused form posted from a workspace or, with the hidden `back`, from the ticket page comes
    back open as typed where back_or returns: the ticket's page (ticket.centre_refusal reads it under
    the same action name) or the workspace `elsewhere` (None: that workspace shows no kept form)."""
    if from_ticket_page(request):
        form_keep(request, where=f"ticket:{ticket_id}", action=action, names=names)
    elif elsewhere is not None:
        form_keep(request, where=elsewhere, action=action, names=names)
