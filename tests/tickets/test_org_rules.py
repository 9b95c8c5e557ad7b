"""Rules of the organisation that every caller shares, tested where they are defined (tickets.models).

- 职能部门事项 never goes to a street or community: `functional_matter_refuses`, used by dispatch,
  下派, the routing catalogue and the catalogue's admin form.
- The ticket's top-level lead (主办) assignment: `top_lead_q` / `Assignment.is_top_lead`.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tickets.core.actors import Actor
from tickets.core.models import Assignment, top_lead_q
from tickets.core.services import workflow
from tickets.errors import InvalidInput
from tickets.org.models import Category, RoutingRule, User, functional_matter_refuses
from tickets.routing.services.catalogue import route_lookup

from .helpers import dispatched, new_ticket, staff


@pytest.fixture
def inherited(cats) -> Category:
    """A sub-category not flagged itself, under the functional 劳动和社会保障: the flag is inherited."""
    return Category.objects.create(code="ldqt", name="其他劳动事项", parent=cats["ldsb"], is_functional=False)


@pytest.mark.parametrize(
    ("category", "unit", "refused"),
    [
        ("tqgz", "donghu-xinhua", True),  # functional → street
        ("tqgz", "nancheng-yongan-c1", True),  # functional → community
        ("tqgz", "donghu", False),  # a district is not street level
        ("tqgz", "rsj", False),
        ("zswr", "donghu-xinhua", False),  # territorial matters may go down
        (None, "donghu-xinhua", False),
    ],
)
def test_which_unit_a_functional_matter_may_go_to(units, cats, category: str | None, unit: str, refused: bool) -> None:
    assert functional_matter_refuses(cats[category] if category else None, units[unit]) is refused


def test_the_functional_flag_is_inherited_from_an_ancestor(units, inherited: Category) -> None:
    assert inherited.is_functional_matter()
    assert functional_matter_refuses(inherited, units["donghu-xinhua"])


def test_dispatch_of_an_inherited_functional_matter_to_a_street_is_refused(units, inherited: Category) -> None:
    ticket = new_ticket(category=inherited, auto_route=False)
    with pytest.raises(InvalidInput) as refused:
        workflow.ticket_dispatch(
            ticket=ticket, actor=Actor.of(User.objects.get(username="dispatcher1")), lead_unit=units["donghu-xinhua"]
        )
    assert refused.value.rule == "functional_not_to_street"
    assert not ticket.assignments.exists()


def test_a_district_leading_a_functional_matter_cannot_push_it_down_to_a_street(units, cats) -> None:
    """The same rule as dispatch: who passes the matter down does not matter, where it lands does."""
    ticket, lead = dispatched(units["donghu"], category=cats["tqgz"])
    clerk = Actor.of(staff(units["donghu"]))
    lead = workflow.assignment_sign(assignment=lead, actor=clerk)
    with pytest.raises(InvalidInput) as refused:
        workflow.assignment_redispatch(assignment=lead, actor=clerk, child_unit=units["donghu-xinhua"])
    assert refused.value.rule == "functional_not_to_street"
    assert ticket.assignments.count() == 1


def test_the_catalogue_form_refuses_a_street_for_an_inherited_functional_matter(units, inherited: Category) -> None:
    rule = RoutingRule(category=inherited, jurisdiction=units["donghu-xinhua"], lead_unit=units["donghu-xinhua"])
    with pytest.raises(ValidationError) as refused:
        rule.clean()
    assert "lead_unit" in refused.value.message_dict


def test_routing_skips_a_street_rule_for_an_inherited_functional_matter(units, inherited: Category) -> None:
    street = units["donghu-xinhua"]
    RoutingRule.objects.create(category=inherited, jurisdiction=street, lead_unit=street)
    route = route_lookup(category=inherited, jurisdiction=units["donghu-xinhua"])
    assert route is not None and route.lead_unit.code == "rsj"


def test_the_top_level_lead_is_neither_an_assisting_unit_nor_a_passed_down_child(units, cats) -> None:
    ticket = workflow.ticket_dispatch(
        ticket=new_ticket(category=cats["zswr"], auto_route=False),
        actor=Actor.of(User.objects.get(username="dispatcher1")),
        lead_unit=units["donghu"],
        assisting_units=[units["sthjj"]],
    )
    clerk = Actor.of(staff(units["donghu"]))
    lead = workflow.assignment_sign(assignment=ticket.assignments.get(unit=units["donghu"]), actor=clerk)
    workflow.assignment_redispatch(assignment=lead, actor=clerk, child_unit=units["donghu-xinhua"])
    assert ticket.assignments.count() == 3
    assert list(Assignment.objects.filter(top_lead_q(), ticket=ticket)) == [lead]
    assert {a.pk for a in ticket.assignments.all() if a.is_top_lead} == {lead.pk}
