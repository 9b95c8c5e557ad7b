"""The 考核数据 CSV (导出考核数据 on /board/scorecards/) reads like the ticket export: Chinese column
headers, the §6 names for the rates, and every value under the header that names it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

from tests.metrics.test_exports import _csv
from tickets.core.actors import Actor
from tickets.core.models import Assignment, Ticket
from tickets.core.services import workflow
from tickets.intake.services import intake
from tickets.metrics.apis.exports import METRICS_CSV_HEADERS

DAY = datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

HEADER = [
    "单位编码",
    "单位名称",
    "派单数",
    "按时签收数",
    "应办结数",
    "按时办结数",
    "退单数（已批准）",
    "重办数",
    "办结数",
    "一次办结数",
    "直接答复数",
    "受理数",
    "重复来电数",
    "有效回访数",
    "回访已联系数",
    "回访已解决数",
    "满意数",
    "基本满意数",
    "不满意数",
    "主办工单数",
    "评价数（含未答全的）",
    "按时签收率",
    "按时办结率",
    "退单率",
    "重办率",
    "一次办结率",
    "直接答复率",
    "重复来电率",
    "响应率",
    "解决率",
    "满意率",
    "综合得分",
]
# The scorecard API's key behind each header: the export's own table, read backwards. HEADER above is
# written out, so a renamed or reordered column fails here; this only pairs each with its value.
KEYS = {label: key for key, label in METRICS_CSV_HEADERS.items()}


def _wage_ticket(user: Any, cats: Any, phone: str) -> Ticket:
    return intake.ticket_create(
        actor=Actor.of(user("operator1")),
        channel="phone",
        text="公司拖欠三个月工资不发，要求协调解决",
        kind="complaint",
        citizen_phone=phone,
        category=cats["tqgz"],
    )


def test_the_metrics_csv_has_chinese_headers_and_each_value_under_its_own(
    city: Any, cats: Any, user: Any, api: Any
) -> None:
    with time_machine.travel(DAY, tick=False):
        signed, _ = _wage_ticket(user, cats, "+8613600136001"), _wage_ticket(user, cats, "+8613600136002")
        lead = Assignment.objects.get(ticket=signed, role="lead")
        workflow.assignment_sign(assignment=lead, actor=Actor.of(user("rsj_staff")))  # on time: 1 of 2

        query = "period=month&date=2026-12-01"
        response = api("supervisor1").get(f"/api/exports/metrics.csv?{query}")
        cards = api("supervisor1").get(f"/api/metrics/units/?{query}").json()

    assert response.status_code == 200
    rows = _csv(response)
    assert rows[0] == HEADER
    by_unit = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    rsj = by_unit["rsj"]
    assert (rsj["单位名称"], rsj["派单数"], rsj["按时签收数"], rsj["按时签收率"]) == ("市人社局", "2", "1", "0.5")
    assert rsj["满意率"] == "" and rsj["综合得分"] == ""  # no valid callback yet: no rate, not 0
    # Every column of every unit holds the API's value for the key its header names.
    for card in cards["units"]:
        row = by_unit[card["unit"]]
        for header in HEADER:
            key = KEYS[header]
            assert row[header] == ("" if card[key] is None else str(card[key])), (card["unit"], header)
