"""seed_bulk: tickets written with COPY look like the workflow's, and the scorecards agree with a rebuild."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, Q

from tickets.core.actors import Actor
from tickets.core.models import Assignment, Ticket, TicketEvent
from tickets.feedback.models import Rating
from tickets.intake.services import intake
from tickets.metrics.models import COUNTERS, UnitDayStats, UnitMonthStats
from tickets.metrics.services.scorecards import metrics_rebuild
from tickets.org.models import User

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _postgres_only(db: None) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("seed_bulk streams rows with PostgreSQL COPY FROM STDIN; set DATABASE_URL to run it")


def _scorecards() -> tuple[dict[tuple[int, object], tuple[int, ...]], dict[tuple[int, object], tuple[int, ...]]]:
    def rows(model: type, key: str) -> dict[tuple[int, object], tuple[int, ...]]:
        return {
            (r["unit_id"], r[key]): tuple(r[c] for c in COUNTERS)
            for r in model.objects.values("unit_id", key, *COUNTERS)  # type: ignore[attr-defined]
        }

    return rows(UnitDayStats, "day"), rows(UnitMonthStats, "month")


@pytest.mark.slow
def test_bulk_tickets_have_workflow_history_and_scorecards_equal_a_rebuild(city: object) -> None:
    # 600 tickets: 300 lifecycles generated in Python and one copy of each made in SQL.
    call_command("seed_bulk", tickets=600, base=300, units=45, seed=3, chunk=200)

    tickets = Ticket.objects.filter(external_ref__startswith="bulk-")
    assert tickets.count() == 600
    assert tickets.values("number").distinct().count() == 600
    states = Counter(tickets.values_list("state", flat=True))
    assert states["closed"] > 300 and states["in_progress"] > 0  # old ones closed, recent or stuck ones open
    assert states["answered_directly"] > 0

    # Every ticket's history starts with its intake and follows the transition table.
    firsts = TicketEvent.objects.filter(ticket__in=tickets).order_by("ticket_id", "id").distinct("ticket_id")
    assert set(firsts.values_list("action", flat=True)) == {"created"}
    closed = (
        tickets.filter(state="closed")
        .annotate(closes=Count("events", filter=Q(events__action="close")))
        .values_list("closes", flat=True)
    )
    assert min(closed) >= 1
    open_leads = Assignment.objects.filter(ticket__in=tickets.filter(state="in_progress"), ended_at__isnull=True)
    assert open_leads.exists()
    assert Rating.objects.filter(ticket__in=tickets).exists()

    # The counters written with the tickets are exactly what replaying the history gives.
    generated = _scorecards()
    metrics_rebuild()
    assert _scorecards() == generated
    assert sum(row[COUNTERS.index("dispatched")] for row in generated[0].values()) >= 570


def test_a_ticket_taken_after_a_bulk_load_gets_a_new_id_and_number(city: object) -> None:
    call_command("seed_bulk", tickets=50, seed=5, chunk=50)
    newest = Ticket.objects.order_by("-id").first()
    assert newest is not None

    ticket = intake.ticket_create(
        actor=Actor.of(User.objects.get(username="operator1")),
        channel="web",
        text="东湖区新华街道路灯不亮，晚上出行不安全，请尽快维修。",
        citizen_phone="+8613800001111",
        auto_route=False,
        notify=False,
    )

    assert ticket.pk > newest.pk
    assert Ticket.objects.filter(number=ticket.number).count() == 1


def test_seed_bulk_refuses_a_count_that_copies_cannot_make(city: object) -> None:
    with pytest.raises(CommandError, match="multiple of 3"):
        call_command("seed_bulk", tickets=1000, base=400)
    assert not Ticket.objects.filter(external_ref__startswith="bulk-").exists()


def test_a_units_list_is_the_same_whether_probed_or_read_from_its_assignments(city: object) -> None:
    from django.db.models import Exists, OuterRef

    from tickets.core.selectors import ProbeExists, assigned_under

    call_command("seed_bulk", tickets=400, units=45, seed=9, chunk=400)
    for path in ("/donghu/", "/donghu/donghu-xinhua/", "/rsj/"):
        scope = Assignment.objects.filter(ticket=OuterRef("pk"), unit_path__startswith=path)
        probed = list(Ticket.objects.filter(ProbeExists(scope)).order_by("-id").values_list("id", flat=True))
        joined = list(Ticket.objects.filter(Exists(scope)).order_by("-id").values_list("id", flat=True))
        chosen = list(Ticket.objects.filter(assigned_under(path)).order_by("-id").values_list("id", flat=True))
        assert probed == joined == chosen
        assert probed, path
        # A keyset page below a cursor holds the same tickets either way.
        cursor = probed[len(probed) // 2]
        page = Ticket.objects.filter(id__lt=cursor).order_by("-id")
        assert list(page.filter(ProbeExists(scope))[:21]) == list(page.filter(Exists(scope))[:21])


def test_lists_walked_from_an_id_set_hold_the_same_tickets_as_the_plain_filters(city: object, api: Any) -> None:
    """A street's list and the overdue lists read an id set newest first (IdAmong); every page of
    them holds what the plain filters give, also with two such filters on one list."""
    from django.db.models import Exists, OuterRef
    from django.utils import timezone

    from tickets.core import selectors
    from tickets.org.models import Category, Unit

    call_command("seed_bulk", tickets=1500, units=45, seed=9, chunk=1500)
    selectors._SCOPE_SIZES.clear()  # sizes cached by an earlier test's data
    district = Unit.objects.get(code="donghu")
    busiest = (
        Assignment.objects.filter(unit__parent=district).values("unit").annotate(n=Count("id")).order_by("-n").first()
    )
    assert busiest is not None
    street = Unit.objects.get(pk=busiest["unit"])
    street_staff = api(User.objects.filter(unit=street, role="unit_staff").order_by("id").first())
    supervisor = api("supervisor1")

    def listed(client: Any, url: str) -> list[int]:
        ids: list[int] = []
        url += ("&" if "?" in url else "?") + "page_size=1"
        for _ in range(100):
            body = client.get(url).json()
            ids += [row["id"] for row in body["results"]]
            url = body["next"]
            if not url:
                return ids
        raise AssertionError(f"more than 100 pages: {ids[:30]}")

    def under(unit: Unit) -> Q:
        return Q(Exists(Assignment.objects.filter(ticket=OuterRef("pk"), unit_path__startswith=unit.path)))

    def expected(*conditions: Q) -> list[int]:
        overdue = Q(due_at__lt=timezone.now(), closed_at__isnull=True)
        return list(Ticket.objects.filter(overdue, *conditions).order_by("-id").values_list("id", flat=True))

    street_all = list(Ticket.objects.filter(under(street)).order_by("-id").values_list("id", flat=True))
    assert len(street_all) > 1 and listed(street_staff, "/api/tickets/") == street_all
    assert listed(street_staff, f"/api/tickets/?overdue=true&unit={street.pk}") == expected(under(street))
    # the district and top category with the most overdue tickets (1 % of the generated ones are stuck)
    area, top = max(
        ((d, c) for d in Unit.objects.filter(kind="district") for c in Category.objects.filter(parent__isnull=True)),
        key=lambda dc: len(expected(under(dc[0]), Q(category__path__startswith=dc[1].path))),
    )
    overdue_here = expected(under(area), Q(category__path__startswith=top.path))
    assert len(overdue_here) >= 2, overdue_here
    assert listed(supervisor, f"/api/tickets/?overdue=true&unit={area.pk}&category={top.pk}") == overdue_here
    assert listed(supervisor, f"/api/tickets/?overdue=true&unit={street.pk}") == expected(under(street))
    assert listed(supervisor, "/api/tickets/?overdue=true") == expected()
