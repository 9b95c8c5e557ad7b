"""按责转办: the routing catalogue (派单目录) and the decision to dispatch or queue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from tickets.core.memo import memoised_many
from tickets.core.models import Ticket
from tickets.org.models import Category, RoutingRule, Unit, UnitKind, functional_matter_refuses

NO_ROUTE_REASON = "派单目录中没有对应的承办单位，等待人工派单"


@dataclass(frozen=True)
class Route:
    lead_unit: Unit
    assisting_units: list[Unit] = field(default_factory=list)
    basis: str = ""  # which rule matched, shown in the history


def _district_of(unit: Unit | None) -> Unit | None:
    while unit is not None and unit.kind != UnitKind.DISTRICT:
        unit = unit.parent
    return unit


def route_lookup(*, category: Category | None, jurisdiction: Unit | None) -> Route | None:
    """The lead unit for category × jurisdiction.

    Most specific first: the category and its ancestors × the jurisdiction and its ancestors,
    then a category-only rule, then — for territorial matters only — the district (兜底).
    A functional department's matter is never pushed down to a street.
    """
    categories = category.lineage() if category else []
    return _pick(category, jurisdiction, _rules(categories))


def routes_lookup(pairs: Sequence[tuple[Category | None, Unit | None]]) -> list[Route | None]:
    """`route_lookup` for a batch of (category, jurisdiction): the same answers from four queries in
    all (the categories' and places' ancestors, the rules, their 协办 units), not a few per ticket."""
    _link_ancestors(Category, [c for c, _ in pairs if c is not None])
    _link_ancestors(Unit, [u for _, u in pairs if u is not None])
    rules = _rules([node for c, _ in pairs if c is not None for node in c.lineage()])
    return [_pick(category, jurisdiction, rules) for category, jurisdiction in pairs]


Node = TypeVar("Node", Category, Unit)


def _link_ancestors(model: type[Node], nodes: list[Node]) -> None:
    """Set each node's parent chain from one query (by the materialised path), so `.parent` reads none;
    no query when the process already holds those ancestors (reference data, `tickets.core.memo`)."""
    label = model._meta.label
    prefixes = {node.path[: i + 1] for node in nodes for i, ch in enumerate(node.path) if ch == "/" and i}

    def load(keys: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], Node]:
        found = model._default_manager.filter(path__in=[path for _, _, path in keys])  # type: ignore[attr-defined]
        return {("ancestor", label, n.path): n for n in found}

    kept = memoised_many([("ancestor", label, path) for path in prefixes], load, reference=True)
    by_id: dict[int, Node] = {n.pk: n for n in kept.values() if n is not None}
    for node in [*nodes, *by_id.values()]:
        if node.parent_id is not None and node.parent_id in by_id:
            node.parent = by_id[node.parent_id]


def _rules(categories: Sequence[Category]) -> dict[tuple[int, int | None], RoutingRule]:
    """The active rules of these categories, by (category, place); read once per process while the
    catalogue is unchanged (reference data, `tickets.core.memo`)."""

    def load(keys: list[tuple[str, int]]) -> dict[tuple[str, int], dict[tuple[int, int | None], RoutingRule]]:
        found: dict[tuple[str, int], dict[tuple[int, int | None], RoutingRule]] = {key: {} for key in keys}
        for rule in (
            RoutingRule.objects.filter(category__in=[pk for _, pk in keys], is_active=True, lead_unit__is_active=True)
            .select_related("lead_unit")
            .prefetch_related("assisting_units")
        ):
            found[("rules", rule.category_id)][(rule.category_id, rule.jurisdiction_id)] = rule
        return found

    kept = memoised_many([("rules", c.pk) for c in categories], load, reference=True)
    return {pair: rule for rules in kept.values() if rules for pair, rule in rules.items()}


def _pick(
    category: Category | None, jurisdiction: Unit | None, rules: dict[tuple[int, int | None], RoutingRule]
) -> Route | None:
    places: list[Unit | None] = []
    node = jurisdiction
    while node is not None:
        places.append(node)
        node = node.parent
    for cat in category.lineage() if category else []:
        for place in [*places, None]:
            rule = rules.get((cat.pk, place.pk if place else None))
            if rule is None:
                continue
            if functional_matter_refuses(category, rule.lead_unit):
                continue
            where = place.name if place else "全市"
            return Route(rule.lead_unit, list(rule.assisting_units.all()), f"派单目录：{cat.name} × {where}")
    if category is None or not category.is_functional_matter():
        district = _district_of(jurisdiction)
        if district is not None:
            return Route(district, [], f"属地兜底：{district.name}")
    return None


def route_for_ticket(ticket: Ticket) -> Route | None:
    return route_lookup(category=ticket.category, jurisdiction=ticket.jurisdiction)
