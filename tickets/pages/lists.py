"""工单查询: search from every workspace and the filtered ticket list (all staff roles, scoped).

The list is the API's `TicketFilter` (django-filter) plus day-based dates for a person, over
`selectors.ticket_pages` (the role's scope), read a keyset page at a time by `tickets.core.search`
and counted up to a cap. From here: saved views (常用筛选), bulk 派单/并单 for the centre's
dispatchers, and the Excel export of exactly the filtered rows (masked for the reader's role).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

import django_filters
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from tickets.core import dates, privacy, search, selectors
from tickets.core.actors import Actor
from tickets.core.apis.filters import TicketFilter
from tickets.core.models import Channel, Kind, Ticket, Urgency
from tickets.core.services import workflow
from tickets.core.states import TicketState
from tickets.errors import DomainError, InvalidInput, NotFound
from tickets.metrics.services import exports
from tickets.org import services as org_services
from tickets.org.models import Category, Role, SavedView, Unit, User
from tickets.pages.common import CENTRE_PAGE_ROLES, UNIT_PAGE_ROLES, due_class, post_only, posted_id, role_required

STAFF_PAGE_ROLES = (*CENTRE_PAGE_ROLES, *UNIT_PAGE_ROLES)
BULK_ROLES = (Role.OPERATOR, Role.DISPATCHER)  # workflow.DISPATCHERS: who may 派单 and 并单
BULK_MAX = 50
# Query parameters of the list page; anything else is dropped (never stored in a saved view).
LIST_PARAMS = (
    "q",
    "state",
    "unit",
    "category",
    "urgency",
    "channel",
    "kind",
    "overdue",
    "is_flagged",
    "is_problem",
    "date_from",
    "date_to",
    "sort",
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _day_in_range(value: date) -> None:
    """The one supported range (tickets/core/dates.py): 0001-01-01 or 9999-12-31 in a date box would
    leave Python's calendar when the day is turned into a UTC bound (HTTP 500)."""
    try:
        dates.day_checked(value, field="date")
    except InvalidInput as exc:
        raise ValidationError(exc.message) from None


class TicketListFilter(TicketFilter):
    """The API's filters, with dates as whole days in Asia/Shanghai (what a date input sends)."""

    date_from = django_filters.DateFilter(
        method="filter_date_from", label=gettext_lazy("受理日期起"), validators=[_day_in_range]
    )
    date_to = django_filters.DateFilter(
        method="filter_date_to", label=gettext_lazy("受理日期止"), validators=[_day_in_range]
    )

    def filter_date_from(self, qs: QuerySet[Ticket], name: str, value: Any) -> QuerySet[Ticket]:
        start = timezone.make_aware(datetime.combine(value, time.min))
        return qs.filter(created_at__gte=start)

    def filter_date_to(self, qs: QuerySet[Ticket], name: str, value: Any) -> QuerySet[Ticket]:
        end = timezone.make_aware(datetime.combine(value + timedelta(days=1), time.min))
        return qs.filter(created_at__lt=end)


def ticket_url(ticket_id: int, user: User) -> str:
    """Where a ticket number links to: the one ticket page (`ticket-page`), or, until it exists on
    this branch, the unit's ticket page for unit staff and the same URL shape for the centre."""
    try:
        return reverse("ticket-page", args=[ticket_id])
    except NoReverseMatch:
        if user.is_unit_staff:
            return reverse("unit-ticket", args=[ticket_id])
        return f"/tickets/{ticket_id}/"


def list_query(params: QueryDict) -> QueryDict:
    """The list's own parameters without empty values (a GET form sends every field)."""
    clean = QueryDict(mutable=True)
    for name in LIST_PARAMS:
        values = [v.strip() for v in params.getlist(name) if v.strip()]
        if values:
            clean.setlist(name, values)
    return clean


def _filter_errors(found: TicketListFilter) -> str:
    labels = {name: str(field.label or name) for name, field in found.form.fields.items()}
    name, errors = next(iter(found.errors.items()))
    return _("筛选条件不正确：%(field)s：%(error)s") % {"field": labels.get(name, name), "error": errors[0]}


@dataclass
class Filtered:
    query: QueryDict
    qs: QuerySet[Ticket] | None
    error: str
    term: search.SearchTerm | None
    sort: str


def filtered(request: HttpRequest) -> Filtered:
    """The reader's scoped tickets through the list's filters, or the first refusal in Chinese."""
    user: User = request.user  # type: ignore[assignment]
    query = list_query(request.GET)
    sort = query.get("sort", "new")
    if sort not in search.SORTS:
        return Filtered(query, None, _("排序方式不正确"), None, "new")
    found = TicketListFilter(query, queryset=selectors.ticket_pages(user), request=request)
    try:
        if not found.is_valid():
            return Filtered(query, None, _filter_errors(found), None, sort)
        first, last = found.form.cleaned_data.get("date_from"), found.form.cleaned_data.get("date_to")
        if first and last and last < first:  # an empty list would read as "no tickets in those days"
            return Filtered(query, None, _("受理日期止不能早于受理日期起"), None, sort)
        qs = found.qs
    except InvalidInput as exc:
        return Filtered(query, None, str(exc), None, sort)
    return Filtered(query, qs, "", getattr(found, "search_term", None), sort)


def _rows(page: list[Ticket], user: User) -> list[dict[str, Any]]:
    now = timezone.now()
    rows = []
    for t in page:
        citizen = privacy.citizen_view(t, user)
        rows.append(
            {
                "ticket": t,
                "url": ticket_url(t.pk, user),
                "title": privacy.citizen_text(t.title, t, user),
                # the text unless the title already is its beginning (intake titles a call by its first words)
                "excerpt": ""
                if t.title and t.text.startswith(t.title) and len(t.text) <= len(t.title) + 2
                else privacy.citizen_text(t.text[:80], t, user),
                "citizen": citizen,
                "phone": privacy.phone_display(citizen["citizen_phone"]),
                "due_css": due_class(t.due_at, now) if t.closed_at is None else "due-none",
                "overdue": bool(t.due_at and t.closed_at is None and t.due_at < now),
            }
        )
    return rows


def _choices(user: User) -> dict[str, Any]:
    units = Unit.objects.filter(is_active=True).order_by("path")
    if user.is_unit_staff and user.unit is not None:
        units = units.filter(path__startswith=user.unit.path)
    return {
        "states": [c for c in TicketState.choices if c[0] != TicketState.DRAFT],
        "urgencies": Urgency.choices,
        "channels": Channel.choices,
        "kinds": Kind.choices,
        "units": list(units.only("id", "name", "path")),
        "categories": list(Category.objects.filter(is_active=True).order_by("path").only("id", "name", "path")),
    }


FACET_CAP = 999


def _state_facets(request: HttpRequest, query: QueryDict) -> list[tuple[str, str]]:
    """The state choices labelled with how many tickets each holds, capped at 999 ("999+"), on the
    centre's unfiltered list: each count reads at most 1,000 entries of `ticket_state_id`, at any
    table size. Under other filters a per-state count would read as many rows as the state holds
    until 1,000 match (growing with the table), so there the list shows its own capped total only."""
    user: User = request.user  # type: ignore[assignment]
    choices = [c for c in TicketState.choices if c[0] != TicketState.DRAFT]
    others = [name for name in query if name not in ("state", "sort")]
    if not user.is_centre or others:
        return [(value, str(label)) for value, label in choices]
    base = selectors.ticket_pages(user)
    out = []
    for value, label in choices:
        n, more = search.count_capped(base.filter(state=value), cap=FACET_CAP)
        shown = f"{n}+" if more else str(n)
        out.append((value, _("%(label)s（%(n)s）") % {"label": label, "n": shown}))
    return out


def _bulk_allowed(user: User) -> bool:
    return bool(user.is_superuser or user.role in BULK_ROLES)


@require_GET
@role_required(*STAFF_PAGE_ROLES)
def ticket_list(request: HttpRequest) -> HttpResponse:
    """工单查询: the search box's results and the filtered list, one keyset page at a time."""
    user: User = request.user  # type: ignore[assignment]
    found = filtered(request)
    context: dict[str, Any] = {
        "query": found.query,
        "selected_states": found.query.getlist("state"),
        "sort": found.sort,
        "term": found.term,
        "window": search.SHORT_TERM_WINDOW,
        "saved_views": list(SavedView.objects.filter(user=user)),
        "bulk": _bulk_allowed(user),
        "bulk_max": BULK_MAX,
        "export_query": urlencode([(k, v) for k, vs in found.query.lists() if k != "sort" for v in vs], doseq=False),
        "saved_query": found.query.urlencode(),
        **_choices(user),
    }
    status = 200
    if found.qs is None:
        context["error"] = found.error
        status = 400
    else:
        cursor = request.GET.get("after", "")
        try:
            page = search.ticket_page(found.qs, sort=found.sort, cursor=cursor)
        except InvalidInput as exc:
            context["error"] = str(exc)
            return render(request, "tickets/lists/list.html", context, status=400)
        start = posted_id(request.GET.get("start")) or 1
        scoped = user.is_unit_staff or bool(found.query.get("unit"))
        cap = search.SCOPED_COUNT_CAP if scoped else search.COUNT_CAP
        total, more = search.count_capped(search.sorted_for(found.qs, found.sort), cap)
        context.update(
            rows=_rows(page.rows, user),
            start=start,
            end=start + len(page.rows) - 1,
            total=total,
            total_more=more,
            next_query=_next_query(found.query, page.next_cursor, start + len(page.rows)),
            states=_state_facets(request, found.query),
        )
    return render(request, "tickets/lists/list.html", context, status=status)


def _next_query(query: QueryDict, cursor: str | None, start: int) -> str:
    if cursor is None:
        return ""
    nxt = query.copy()
    nxt["after"] = cursor
    nxt["start"] = str(start)
    return nxt.urlencode()


@require_GET
@role_required(*STAFF_PAGE_ROLES)
def ticket_list_export(request: HttpRequest) -> HttpResponse:
    """导出 Excel: the list's filtered rows, masked for the reader (tickets.metrics.services.exports)."""
    user: User = request.user  # type: ignore[assignment]
    found = filtered(request)
    if found.qs is None:
        return render(request, "tickets/lists/list.html", {"error": found.error, "query": found.query}, status=400)
    filters = exports.export_filters(found.query)  # the same log line as the API's export doors
    limited = exports.export_prepare(user=user, tickets=found.qs, what="tickets", fmt="xlsx", filters=filters)
    handle = exports.xlsx_file(exports.TICKET_HEADER, exports.ticket_rows(limited, user), _("工单"))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    # a FileResponse is a streaming response, not an HttpResponse subclass; role_required passes it through
    return FileResponse(handle, as_attachment=True, filename=f"tickets-{stamp}.xlsx", content_type=XLSX)  # type: ignore[return-value]


# --- saved views ------------------------------------------------------------------------------------


@post_only
@role_required(*STAFF_PAGE_ROLES)
def saved_view_create(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    query = list_query(QueryDict(request.POST.get("query", "")))
    query.pop("after", None)
    try:
        view = org_services.saved_view_create(user=user, name=request.POST.get("name", ""), query=query.urlencode())
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect(f"{reverse('ticket-search')}?{query.urlencode()}")
    messages.success(request, _("已保存常用筛选“%(name)s”") % {"name": view.name})
    return redirect(f"{reverse('ticket-search')}?{view.query}")


@post_only
@role_required(*STAFF_PAGE_ROLES)
def saved_view_delete(request: HttpRequest, view_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    try:
        org_services.saved_view_delete(user=user, view_id=view_id)
    except NotFound as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已删除常用筛选"))
    return redirect("ticket-search")


# --- bulk 派单 / 并单 ---------------------------------------------------------------------------------


def _selected(request: HttpRequest, user: User) -> list[Ticket]:
    ids = [i for i in (posted_id(v) for v in request.POST.getlist("ticket")) if i is not None]
    if not ids:
        raise InvalidInput(_("请先勾选工单"), field="ticket")
    if len(ids) > BULK_MAX:
        raise InvalidInput(_("一次最多处理%(n)s件工单") % {"n": BULK_MAX}, field="ticket")
    found = {t.pk: t for t in selectors.ticket_list(user).filter(pk__in=ids)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise InvalidInput(_("所选工单不存在或无权处理"), field="ticket")
    return [found[i] for i in sorted(set(ids))]


def _each(tickets: list[Ticket], act: Any) -> tuple[list[str], list[str]]:
    """Run the action on each ticket in its own transaction: one refusal does not undo the others."""
    done, failed = [], []
    for ticket in tickets:
        try:
            with transaction.atomic():
                act(ticket)
        except DomainError as exc:
            if ticket.number in str(exc):  # the refusal names the ticket itself (工单 … 已结束，不能派单)
                failed.append(str(exc))
            else:
                failed.append(_("工单 %(number)s：%(reason)s") % {"number": ticket.number, "reason": str(exc)})
        else:
            done.append(ticket.number)
    return done, failed


def _bulk_dispatch(request: HttpRequest, tickets: list[Ticket], actor: Actor) -> tuple[list[str], list[str]]:
    unit = Unit.objects.filter(pk=posted_id(request.POST.get("lead_unit")) or 0).first()
    if unit is None:
        raise InvalidInput(_("请选择承办单位"), field="lead_unit")
    category = Category.objects.filter(pk=posted_id(request.POST.get("category")) or 0, is_active=True).first()
    note = request.POST.get("note", "")
    return _each(
        tickets,
        lambda t: workflow.ticket_dispatch(ticket=t, actor=actor, lead_unit=unit, category=category, note=note),
    )


def _bulk_merge(request: HttpRequest, tickets: list[Ticket], actor: Actor, user: User) -> tuple[list[str], list[str]]:
    number = request.POST.get("master", "").strip()
    if number:
        master = selectors.ticket_list(user).filter(number=number).first()
        if master is None:
            raise InvalidInput(_("主工单 %(number)s 不存在") % {"number": number}, field="master")
    else:
        master = tickets[0]  # the earliest selected: the first caller's ticket leads
    children = [t for t in tickets if t.pk != master.pk]
    if not children:
        raise InvalidInput(_("请至少勾选两件工单（或一件工单并填写主工单号）"), field="ticket")
    reason = request.POST.get("note", "") or _("批量并单至 %(number)s") % {"number": master.number}
    return _each(children, lambda t: workflow.ticket_merge(ticket=t, master=master, actor=actor, reason=reason))


@post_only
@role_required(*CENTRE_PAGE_ROLES)
def ticket_bulk(request: HttpRequest) -> HttpResponse:
    """批量派单 (several tickets of one matter to one unit) or 批量并单 (into one master ticket)."""
    user: User = request.user  # type: ignore[assignment]
    back = f"{reverse('ticket-search')}?{list_query(QueryDict(request.POST.get('query', ''))).urlencode()}"
    if not _bulk_allowed(user):
        messages.error(request, _("只有话务员和派单员可以批量派单或并单"))
        return redirect(back)
    action = request.POST.get("action", "")
    actor = Actor.of(user)
    try:
        tickets = _selected(request, user)
        if action == "dispatch":
            done, failed = _bulk_dispatch(request, tickets, actor)
            verb = _("派单")
        elif action == "merge":
            done, failed = _bulk_merge(request, tickets, actor, user)
            verb = _("并单")
        else:
            raise InvalidInput(_("请选择批量操作"), field="action")
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    if done:
        messages.success(
            request, _("已%(verb)s %(n)s 件：%(numbers)s") % {"verb": verb, "n": len(done), "numbers": "、".join(done)}
        )
    for line in failed:
        messages.error(request, line)
    return redirect(back)
