"""Jurisdiction extraction from the Unit tree: names and aliases, most specific wins."""

from __future__ import annotations

import pytest

from tickets.routing.services.gazetteer import gazetteer_invalidate, jurisdiction_find


@pytest.fixture(autouse=True)
def _fresh_index(city: object) -> None:
    gazetteer_invalidate()


@pytest.mark.parametrize(
    ("text", "address", "expected"),
    [
        ("东湖区新华街道幸福小区楼下烧烤店油烟扰民", "", "donghu-xinhua"),
        ("西山丽湖街道工地夜间施工", "", "xishan-lihu"),
        ("高新开发区某公司拖欠工资", "", "gaoxin"),
        ("小区噪音扰民", "演示市南城区永安街道和平路8号", "nancheng-yongan"),
        ("东湖区光明社区路灯坏了", "", "donghu-xinhua-c2"),
        ("我家住在北塘", "", "beitang"),
        ("投诉新华路上的店铺", "东湖区新华路1号", "donghu"),  # 新华路 is a road, not 新华街道
        ("路灯坏了一个月", "", None),
        ("", "", None),
    ],
)
def test_the_most_specific_place_named_wins(units, text: str, address: str, expected: str | None) -> None:
    found = jurisdiction_find(text=text, address=address)
    assert (found.code if found else None) == expected


def test_the_address_beats_the_text(units) -> None:
    found = jurisdiction_find(text="我以前住在西山区，现在反映的是", address="江滨区滨江街道")
    assert found == units["jiangbin-binjiang"]


def test_hostile_text_does_not_break_it(units) -> None:
    assert jurisdiction_find(text="((.*)+)+$" * 1000 + "\ud800", address="[") is None
