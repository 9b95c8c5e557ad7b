"""Reads for APIs, pages and metrics. Visibility is applied here, where querysets are built."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta
from time import monotonic
from typing import Any

from django.conf import settings
from django.db.models import BooleanField, Exists, Func, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.expressions import Combinable
from django.utils import timezone

from tickets.core.models import Assignment, RouteState, Ticket, TicketEvent
from tickets.core.states import OPEN_ASSIGNMENT_STATES, OPEN_TICKET_STATES, AssignmentState, TicketState
from tickets.errors import NotFound
from tickets.metrics.models import UnitMonthStats
from tickets.org.models import Unit, User


class ProbeExists(Exists):
    """EXISTS evaluated per outer row (a probe of an index), never turned into a join.

    `OFFSET 0` keeps PostgreSQL from pulling the subquery up into a semi-join. As a join, a
    keyset page (`id < cursor ORDER BY id DESC LIMIT 21`) was planned as a merge semi-join whose
    assignment side starts at the newest ticket and walks down to the cursor: a deep page of a
    district's list cost time in proportion to its depth (206 ms at 100k tickets). As a probe, a
    page costs about 21 / (share of tickets in scope) index look-ups at any depth and any size.
    """

    template = "EXISTS(%(subquery)s OFFSET 0)"


class IdAmong(Func):
    """`id = ANY(ARRAY(subquery))` on PostgreSQL (`id IN (subquery)` elsewhere): a keyset page read
    from a small set of ids, newest first, in `ticket_pkey` order.

    The subquery is run once (an InitPlan, ideally an index-only scan) and the outer query walks the
    primary key backwards through the sorted array, stopping at the page size; other filters are
    checked on the way, so the page is right whatever else the list filters on. Used for sets that
    grow with their own size, not the table's (a street's tickets, the overdue tickets of a
    category): a page costs reading the set's index entries plus about 21 row look-ups, where
    `IN (subquery)` looked up and sorted every ticket of the set (6,300 for a street at 10M).

    Never two on one query: PostgreSQL 15 walks every pair of elements of two arrays on the same
    index column (3,000 × 3,000 ids: 325 ms); `holds_id_among` tells the filters to use the plain form.
    """

    output_field = BooleanField()

    def __init__(self, column: str | Combinable, queryset: QuerySet[Any]) -> None:
        super().__init__(column, Subquery(queryset))

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        (lhs, lhs_params), (rhs, rhs_params) = (compiler.compile(e) for e in self.get_source_expressions())
        return f"{lhs} IN {rhs}", [*lhs_params, *rhs_params]

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list[Any]]:
        (lhs, lhs_params), (rhs, rhs_params) = (compiler.compile(e) for e in self.get_source_expressions())
        return f"{lhs} = ANY(ARRAY{rhs})", [*lhs_params, *rhs_params]


def holds_id_among(qs: QuerySet[Any]) -> bool:
    """Whether the queryset already filters on an `IdAmong` (one per query, see there)."""

    def walk(node: Any) -> bool:
        if isinstance(node, IdAmong):
            return True
        children = getattr(node, "children", None)
        if children is None:
            children = node.get_source_expressions() if hasattr(node, "get_source_expressions") else []
        return any(walk(child) for child in children)

    return walk(qs.query.where)


_SCOPE_SIZES: dict[str, tuple[float, bool]] = {}


def _scope_is_broad(path: str) -> bool:
    """Does the unit's scope hold enough of all tickets that probing ticket by ticket is the cheaper plan?

    A probe plan costs about page size / share look-ups per page; a plan driven from the scope's
    assignments costs about their number. With S assignments in scope and T tickets the probe wins
    when 21 · T / S < S, taken as S² ≥ 64 · T. S and T come from the scorecard month rows
    (`dispatched` of the units under the path, `accepted` at the centre), read once per 10 minutes.
    """
    now = monotonic()
    known = _SCOPE_SIZES.get(path)
    if known is not None and now - known[0] < 600:
        return known[1]
    sizes = UnitMonthStats.objects.aggregate(
        scope=Sum("dispatched", filter=Q(unit__path__startswith=path)), total=Sum("accepted")
    )
    scope, total = sizes["scope"] or 0, sizes["total"] or 0
    broad = scope * scope >= 64 * total and scope > 0
    _SCOPE_SIZES[path] = (now, broad)
    return broad


def assigned_under(path: str, *, among: bool = True) -> Q:
    """Tickets with an assignment to the unit at `path` or any unit below it (materialised path prefix).

    A broad scope (a district, a big department) is probed per ticket in id order. A narrow one (a
    street) reads its ticket ids from `asg_unit_path_ticket` (index only) and walks them newest
    first (`IdAmong`); `among=False` (the query already has one) leaves it to the planner.
    """
    if _scope_is_broad(path):
        return Q(ProbeExists(Assignment.objects.filter(ticket=OuterRef("pk"), unit_path__startswith=path)))
    if among:
        return Q(IdAmong("pk", Assignment.objects.filter(unit_path__startswith=path).order_by().values("ticket_id")))
    return Q(Exists(Assignment.objects.filter(ticket=OuterRef("pk"), unit_path__startswith=path)))


def _unit_scope(user: User) -> Q:
    """A unit's staff reach tickets assigned to their unit or any of its descendants."""
    unit: Unit | None = user.unit
    if unit is None:
        return Q(pk__in=[])
    return assigned_under(unit.path)


def ticket_queryset_for(user: User) -> QuerySet[Ticket]:
    """Every ticket query starts here: centre roles see all, unit staff only their own."""
    qs = Ticket.objects.all()
    if not user.is_authenticated:
        return qs.none()
    if user.is_centre:
        return qs
    if user.is_unit_staff:
        return qs.filter(_unit_scope(user))
    return qs.none()


def ticket_list(user: User) -> QuerySet[Ticket]:
    return ticket_queryset_for(user).select_related("category", "jurisdiction", "lead_unit")


def ticket_pages(user: User) -> QuerySet[Ticket]:
    """The keyset-paged ticket list: one table in the page's query, its units and category fetched after.

    With joins in it, the planner may hash-join an `IdAmong` set and sort all of it (it takes such a
    set for 10 rows); on the ticket table alone the page is a backward walk of `ticket_pkey` that
    stops at 21 rows. The two reference tables are read for the page's rows only (two small queries).
    """
    return ticket_queryset_for(user).prefetch_related("category", "jurisdiction", "lead_unit")


def ticket_get(user: User, ticket_id: int) -> Ticket:
    """A ticket the user may see, or 404 — also for an id that exists but is another unit's."""
    ticket = ticket_list(user).filter(pk=ticket_id).first()
    if ticket is None:
        raise NotFound("工单不存在或无权查看")
    return ticket


def ticket_history(ticket: Ticket) -> QuerySet[TicketEvent]:
    return ticket.events.select_related("actor", "assignment__unit").order_by("id")


def ticket_assignments(ticket: Ticket) -> QuerySet[Assignment]:
    return ticket.assignments.select_related("unit").order_by("id")


def assignment_queryset_for(user: User) -> QuerySet[Assignment]:
    qs = Assignment.objects.select_related("ticket", "unit")
    if user.is_centre:
        return qs
    if user.is_unit_staff and user.unit is not None:
        return qs.filter(unit_path__startswith=user.unit.path)
    return qs.none()


def assignment_get(user: User, assignment_id: int) -> Assignment:
    found = assignment_queryset_for(user).filter(pk=assignment_id).first()
    if found is None:
        raise NotFound("派单记录不存在或无权查看")
    return found


def assignment_inbox(user: User, *, state: str | None = None, due: str = "reply_due_at") -> QuerySet[Assignment]:
    """A unit's inbox: its own open assignments, the nearest deadline first (`due`: the reply
    deadline, or the sign deadline for the 待签收 list)."""
    qs = assignment_queryset_for(user)
    if user.is_unit_staff and user.unit is not None:
        # Own unit only, which implies the path scope: without the redundant path prefix the
        # planner reads asg_unit_open_due in deadline order instead of AND-ing two bitmaps.
        qs = Assignment.objects.select_related("ticket", "unit").filter(unit=user.unit)
    qs = qs.filter(state=state) if state else qs.filter(state__in=OPEN_ASSIGNMENT_STATES)
    return qs.order_by(due, "id")


def assignment_replied_recent(user: User, *, days: int = 30) -> QuerySet[Assignment]:
    """已办复: the unit's replied assignments of the last `days` days, newest reply first, so a ticket
    does not vanish from the unit's lists once it is answered (the centre still reviews and rates it)."""
    since = timezone.now() - timedelta(days=days)
    qs = assignment_queryset_for(user)
    if user.is_unit_staff and user.unit is not None:
        qs = Assignment.objects.select_related("ticket", "unit").filter(unit=user.unit)
    return qs.filter(state=AssignmentState.REPLIED, replied_at__gte=since).order_by("-replied_at", "-id")


def dispatch_queue(user: User, now: datetime | None = None) -> QuerySet[Ticket]:
    """待派单: tickets waiting for a human dispatcher, oldest first.

    A ticket the routing worker is about to route (分派中, normally for well under a second) is not
    listed: in a surge hundreds pass through that state a minute, and listing them made rows appear
    and vanish under the dispatcher's pointer and invited a person to race the worker. One still
    waiting after ROUTING_HANDOVER_SECONDS (the worker down or far behind) is listed, so people
    take over and nothing accepted sits unseen.
    """
    return (
        ticket_list(user)
        .filter(state__in=[TicketState.DISPATCHING, TicketState.REGISTERED])
        .filter(Q(route_state=RouteState.DONE) | Q(created_at__lt=_handover(now)))
        .order_by("id")
    )


def _handover(now: datetime | None) -> datetime:
    return (now or timezone.now()) - timedelta(seconds=settings.ROUTING_HANDOVER_SECONDS)


def routing_stalled_count(user: User, now: datetime | None = None) -> int:
    """Accepted tickets the routing worker has left longer than ROUTING_HANDOVER_SECONDS: none while
    it runs; many when every routing worker is down (the 督办看板 says so). The routing queue's
    partial index (`ticket_route_pending`) holds only the waiting rows."""
    return ticket_list(user).exclude(route_state=RouteState.DONE).filter(created_at__lt=_handover(now)).count()


def draft_queue(user: User) -> QuerySet[Ticket]:
    return ticket_list(user).filter(state=TicketState.DRAFT).order_by("id")


def caller_history(user: User, phone: str, *, limit: int = 20) -> list[Ticket]:
    """Earlier tickets from a number, open ones first, newest first within each."""
    if not phone:
        return []
    qs = list(ticket_list(user).filter(citizen_phone=phone).order_by("-id")[:limit])
    return sorted(qs, key=lambda t: (t.state not in OPEN_TICKET_STATES, -t.pk))


def overdue_filter(now: datetime | None = None) -> Q:
    return Q(due_at__lt=now or timezone.now(), closed_at__isnull=True)


def classifier_training_rows() -> Iterator[tuple[str, str]]:
    """Closed tickets whose category a human confirmed or corrected: training data."""
    qs = (
        Ticket.objects.filter(state=TicketState.CLOSED, category__isnull=False)
        .select_related("category__parent")
        .only("text", "category__name", "category__parent__name")
        .order_by("id")
    )
    for ticket in qs.iterator(chunk_size=2000):
        category = ticket.category
        if category is None:
            continue
        top = category.lineage()[-1]
        yield ticket.text, top.name


# --- pages: the four workspaces (console, unit, board) ----------------------------------------


def assignment_requests(user: User, state: str) -> QuerySet[Assignment]:
    """Pending 申请退回 / 申请延期 for the centre to decide, oldest first."""
    return assignment_queryset_for(user).filter(state=state).order_by("id")


def recent_tickets(user: User, *, limit: int = 15) -> list[Ticket]:
    return list(ticket_list(user).order_by("-id")[:limit])


BOARD_SECTION_MAX = 100  # tickets per board section; the rest are in 工单查询 under the same filter


def board_tickets(user: User, now: datetime | None = None) -> dict[str, list[Ticket]]:
    """督办看板: overdue, due by the end of tomorrow (Asia/Shanghai), problem and flagged tickets."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    end_tomorrow = timezone.make_aware(datetime.combine(today + timedelta(days=2), time.min))
    open_qs = ticket_list(user).filter(closed_at__isnull=True).exclude(state=TicketState.DRAFT)
    return {
        "overdue": list(open_qs.filter(overdue_filter(now)).order_by("due_at")[:BOARD_SECTION_MAX]),
        "due_soon": list(
            open_qs.filter(due_at__gte=now, due_at__lt=end_tomorrow).order_by("due_at")[:BOARD_SECTION_MAX]
        ),
        "problem": list(open_qs.filter(Q(is_problem=True) | Q(is_flagged=True)).order_by("-id")[:BOARD_SECTION_MAX]),
    }


def review_queue(user: User) -> QuerySet[Ticket]:
    """审核办复: tickets whose lead unit replied, waiting for the centre, oldest first."""
    return ticket_list(user).filter(state=TicketState.REPLIED).order_by("id")
