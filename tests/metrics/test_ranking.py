"""红榜/黑榜: units of a group ranked by the 三率 composite of the month, top N and bottom N, with trends."""

from __future__ import annotations

from datetime import date
from typing import Any

from tickets.metrics.models import MetricsConfig, UnitMonthStats
from tickets.org.models import Unit


def _month_row(unit: Unit, month: date, *, valid: int, contacted: int, solved: int, satisfied: int, basic: int) -> None:
    UnitMonthStats.objects.create(
        unit=unit, month=month, valid_callbacks=valid, contacted=contacted, solved=solved,
        satisfied=satisfied, basically_satisfied=basic, dissatisfied=valid - satisfied - basic,
    )  # fmt: skip


def test_the_monthly_ranking_lists_top_and_bottom_five_with_trends(city: Any, api: Any) -> None:
    streets = list(Unit.objects.filter(kind="street").order_by("code")[:7])
    assert len(streets) == 7
    # Street i: 10 valid callbacks, all contacted, i solved, i satisfied, no 基本满意:
    # composite = 0.1 × 1 + 0.5 × i/10 + 0.4 × i/10 = 0.1 + 0.09 i.
    for i, street in enumerate(streets):
        _month_row(street, date(2026, 11, 1), valid=10, contacted=10, solved=i, satisfied=i, basic=0)
    _month_row(streets[6], date(2026, 10, 1), valid=10, contacted=10, solved=10, satisfied=10, basic=0)  # was 1.0

    body = api("supervisor1").get("/api/metrics/ranking/?month=2026-11&group=streets").json()

    ranked = [r["unit"] for r in body["ranking"]]
    assert ranked == [s.code for s in reversed(streets)]
    assert [r["unit"] for r in body["top"]] == ranked[:5]
    assert [r["unit"] for r in body["bottom"]] == list(reversed(ranked))[:5]  # worst first
    best = body["ranking"][0]
    assert (best["rank"], best["composite"], best["previous"], best["trend"]) == (1, 0.64, 1.0, -0.36)
    assert body["ranking"][1]["previous"] is None and body["ranking"][1]["trend"] is None
    assert body["ranking"][-1]["composite"] == 0.1


def test_weights_are_configuration(city: Any, api: Any) -> None:
    street = Unit.objects.filter(kind="street").order_by("code").first()
    _month_row(street, date(2026, 11, 1), valid=10, contacted=10, solved=0, satisfied=0, basic=10)
    MetricsConfig.objects.create(response_weight=0.2, solved_weight=0.4, satisfaction_weight=0.4, basic_weight=0.5)
    row = api("supervisor1").get("/api/metrics/ranking/?month=2026-11&group=streets").json()["ranking"][0]
    assert row["composite"] == 0.4  # 0.2 × 1 + 0.4 × 0 + 0.4 × (0.5 × 10 / 10)


def test_unit_staff_rank_only_within_their_own_subtree(city: Any, api: Any) -> None:
    for street in Unit.objects.filter(kind="street"):
        _month_row(street, date(2026, 11, 1), valid=4, contacted=4, solved=2, satisfied=2, basic=0)
    body = api("donghu_staff").get("/api/metrics/ranking/?month=2026-11&group=streets").json()
    assert body["ranking"] and all(r["unit"].startswith("donghu") for r in body["ranking"])
    assert api("supervisor1").get("/api/metrics/ranking/?month=2026-11").status_code == 400
