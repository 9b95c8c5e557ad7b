"""属地: find the district / street / community a message is about, from the Unit tree.

Names and aliases of territorial units (西湖区 and 西湖, 新华街道 and 新华) are matched in the
address first, then in the text; the most specific match wins (a community beats its street,
a street its district), and a deeper match must agree with the district when both are named.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass

from tickets.core.memo import memo_active, memoised, memoised_many
from tickets.org.models import TERRITORIAL_KINDS, Unit, UnitKind

_DEPTH: dict[str, int] = {UnitKind.DISTRICT: 1, UnitKind.STREET: 2, UnitKind.COMMUNITY: 3}
_CACHE_SECONDS = 60.0
_ROAD_SUFFIXES = frozenset("路街巷弄桥里道村苑园府城")


@dataclass(frozen=True)
class Place:
    unit_id: int
    name: str
    path: str
    depth: int
    exact: bool  # matched by its full name, not an alias


@dataclass
class _Index:
    pattern: re.Pattern[str] | None
    by_term: dict[str, list[Place]]
    built_at: float


_lock = threading.Lock()
_index: _Index | None = None


def _terms(unit: Unit) -> set[str]:
    names = {unit.name, *(a for a in unit.aliases if isinstance(a, str))}
    # Short aliases (one character) would match everywhere; keep terms of two characters or more.
    return {n.strip() for n in names if len(n.strip()) >= 2}


def _build() -> _Index:
    by_term: dict[str, list[Place]] = {}
    for unit in Unit.objects.filter(kind__in=TERRITORIAL_KINDS, is_active=True).only(
        "id", "name", "path", "kind", "aliases"
    ):
        for term in _terms(unit):
            place = Place(unit.pk, unit.name, unit.path, _DEPTH[unit.kind], exact=term == unit.name)
            by_term.setdefault(term, []).append(place)
    if not by_term:
        return _Index(None, {}, time.monotonic())
    # Longest terms first so 新华街道 is preferred to 新华 at the same position.
    alternation = "|".join(re.escape(t) for t in sorted(by_term, key=len, reverse=True))
    return _Index(re.compile(alternation), by_term, time.monotonic())


def _current() -> _Index:
    global _index
    with _lock:
        if _index is None or time.monotonic() - _index.built_at > _CACHE_SECONDS:
            _index = _build()
        return _index


def gazetteer_invalidate() -> None:
    global _index
    with _lock:
        _index = None


def _best(candidates: list[Place]) -> Place | None:
    if not candidates:
        return None
    districts = {p.path.split("/")[1] for p in candidates if p.depth == 1}
    # A deeper match counts only if it lies in a named district (when one is named at all):
    # "东湖区…新华街道" picks 东湖区's 新华街道, never a same-named street elsewhere.
    consistent = [p for p in candidates if not districts or p.path.split("/")[1] in districts]
    pool = consistent or candidates
    deepest = max(p.depth for p in pool)
    at_depth = [p for p in pool if p.depth == deepest]
    # A full name (和平街道) outranks a bare alias (和平, which also hides in 和平路).
    exact = [p for p in at_depth if p.exact]
    winners = {p.unit_id: p for p in (exact or at_depth)}
    if len(winners) > 1:
        # Two different places at the same depth: ambiguous; fall back to their common district, if any.
        roots = {p.path.split("/")[1] for p in winners.values()}
        if len(roots) == 1 and deepest > 1:
            root = roots.pop()
            return next((p for p in candidates if p.depth == 1 and p.path.split("/")[1] == root), None)
        return None
    return next(iter(winners.values()))


def _place_find(index: _Index, *, text: str, address: str) -> Place | None:
    if index.pattern is None:
        return None
    for source in (address, text):
        if not source:
            continue
        found = [
            place
            for m in index.pattern.finditer(source)
            for place in index.by_term[m.group(0)]
            # A bare alias followed by 路/街/巷… names a road (新华路), not the street office.
            if place.exact or source[m.end() : m.end() + 1] not in _ROAD_SUFFIXES
        ]
        best = _best(found)
        if best is not None:
            return best
    return None


def jurisdiction_find(*, text: str, address: str = "") -> Unit | None:
    """The most specific territorial unit named in the address (preferred) or the text."""
    best = _place_find(_current(), text=text, address=address)
    return Unit.objects.filter(pk=best.unit_id).first() if best is not None else None


def jurisdictions_find(items: list[tuple[str, str]]) -> list[Unit | None]:
    """`jurisdiction_find` for many (text, address) pairs: the same answers, one query for the units.

    Inside a unit of work (a routing batch) the index and the units are reference data, kept while
    the unit tree is unchanged (`tickets.core.memo`): an added alias counts from the next batch."""
    index = memoised("gazetteer_index", _build, reference=True) if memo_active() else _current()
    places = [_place_find(index, text=text, address=address) for text, address in items]

    def load(keys: list[tuple[str, int]]) -> dict[tuple[str, int], Unit]:
        return {("unit_id", pk): unit for pk, unit in Unit.objects.in_bulk([pk for _, pk in keys]).items()}

    units = memoised_many([("unit_id", p.unit_id) for p in places if p is not None], load, reference=True)
    return [units.get(("unit_id", p.unit_id)) if p is not None else None for p in places]
