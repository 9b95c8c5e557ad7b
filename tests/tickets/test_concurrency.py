"""Two people acting at once cannot both win (real PostgreSQL, one connection per thread)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections

from tickets.core.actors import Actor
from tickets.core.models import Assignment, Ticket, TicketEvent
from tickets.core.services import workflow
from tickets.errors import DomainError
from tickets.org.models import User

from .helpers import dispatched, new_ticket

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks (set DATABASE_URL)"),
]


def race(n: int, action: Callable[[], object]) -> tuple[list[object], list[BaseException]]:
    """Run `action` in n threads released at the same instant; each thread has its own connection."""
    barrier = threading.Barrier(n)
    results: list[object] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            barrier.wait()
            value = action()
            with lock:
                results.append(value)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results, errors


def test_two_staff_signing_the_same_assignment_one_wins_one_event(units: dict) -> None:
    _, assignment = dispatched(units["rsj"])
    actor = Actor.of(User.objects.get(username="rsj_staff"))

    wins, losses = race(2, lambda: workflow.assignment_sign(assignment=Assignment(pk=assignment.pk), actor=actor))

    assert len(wins) == 1 and len(losses) == 1
    assert isinstance(losses[0], DomainError) and losses[0].status_code == 409
    assert TicketEvent.objects.filter(assignment_id=assignment.pk, action="sign").count() == 1
    assert Assignment.objects.get(pk=assignment.pk).state == "signed"


def test_two_reviewers_approving_the_same_return_one_wins(units: dict) -> None:
    ticket, assignment = dispatched(units["zjj"])
    workflow.assignment_request_return(
        assignment=assignment,
        actor=Actor.of(User.objects.get(username="zjj_staff")),
        reason="非本单位职责",
        legal_basis="三定方案",
    )
    reviewers = iter(
        [Actor.of(User.objects.get(username="dispatcher1")), Actor.of(User.objects.get(username="supervisor1"))]
    )
    actors = [next(reviewers), next(reviewers)]
    picks = iter(actors)
    pick_lock = threading.Lock()

    def approve() -> object:
        with pick_lock:
            actor = next(picks)
        return workflow.assignment_decide_return(assignment=Assignment(pk=assignment.pk), actor=actor, approve=True)

    wins, losses = race(2, approve)

    assert len(wins) == 1 and len(losses) == 1 and losses[0].status_code == 409  # type: ignore[attr-defined]
    assert TicketEvent.objects.filter(assignment_id=assignment.pk, action="approve_return").count() == 1
    assert TicketEvent.objects.filter(ticket=ticket, action="return_to_queue").count() == 1
    assert Ticket.objects.get(pk=ticket.pk).state == "dispatching"


def test_eight_concurrent_creators_get_unique_numbers(city: object) -> None:
    def create_ten() -> list[str]:
        return [new_ticket(auto_route=False, text=f"并发受理测试{i}").number for i in range(10)]

    results, errors = race(8, create_ten)

    assert errors == []
    numbers = [n for batch in results for n in batch]  # type: ignore[attr-defined]
    assert len(numbers) == 80 and len(set(numbers)) == 80
    assert sorted(int(n[-6:]) for n in numbers) == list(range(1, 81))


def test_a_number_taken_alone_leaves_durability_as_it_was(city: object) -> None:
    """Taken on its own, the number's statement commits without waiting for the disk; that must
    not leak into the session (the ticket's own commit) nor into a caller's transaction."""
    from django.db import transaction

    from tickets.core.services.numbering import ticket_number_next

    def synchronous_commit() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return str(cursor.fetchone()[0])

    assert synchronous_commit() == "on"
    first = ticket_number_next()
    assert synchronous_commit() == "on"  # the ticket's insert that follows commits synchronously
    with transaction.atomic():
        second = ticket_number_next()
        assert synchronous_commit() == "on"  # a caller's transaction (SMS webhook, citizen form) too
    assert int(second) == int(first) + 1
    ticket = new_ticket(auto_route=False, text="编号之后的受理仍然同步提交")
    assert int(ticket.number) == int(second) + 1 and synchronous_commit() == "on"
