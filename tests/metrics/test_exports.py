"""Exports: a unit user's export holds only their tickets, masked; every export is logged."""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl

from tests.tickets.helpers import dispatched
from tickets.core.actors import Actor
from tickets.core.models import TicketAccessLog
from tickets.intake.services import intake


def _csv(response: Any) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))


def _tickets(cats: Any, units: Any, user: Any) -> dict[str, Any]:
    def wage(phone: str, **kw: Any) -> Any:
        return intake.ticket_create(
            actor=Actor.of(user("operator1")),
            channel="phone",
            text="公司拖欠三个月工资不发",
            kind="complaint",
            citizen_name="李女士",
            citizen_phone=phone,
            citizen_address="演示市东湖区新华路8号",
            category=cats["tqgz"],
            **kw,
        )

    road, _ = dispatched(units["donghu"], phone="13812341234")
    return {"open": wage("+8613600136001"), "secret": wage("+8613600136002", confidential=True), "road": road}


def test_a_unit_users_csv_holds_only_their_tickets_with_masked_citizen_data(
    city: Any, cats: Any, units: Any, user: Any, api: Any
) -> None:
    made = _tickets(cats, units, user)
    response = api("rsj_staff").get("/api/exports/tickets.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = _csv(response)
    header, body = rows[0], {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert header[:3] == ["工单号", "渠道", "类型"]
    assert set(body) == {made["open"].number, made["secret"].number}  # not donghu's road ticket
    assert body[made["open"].number]["联系电话"] == "136****6001"
    assert body[made["open"].number]["市民姓名"] == "李女士"
    assert body[made["secret"].number]["联系电话"] == "" and body[made["secret"].number]["市民姓名"] == ""
    assert body[made["secret"].number]["地址"] == ""
    log = TicketAccessLog.objects.get(user__username="rsj_staff", action="export")
    assert log.detail["rows"] == 2 and log.detail["format"] == "csv" and log.detail["what"] == "tickets"


def test_the_centre_exports_everything_and_filters_apply(city: Any, cats: Any, units: Any, user: Any, api: Any) -> None:
    made = _tickets(cats, units, user)
    rows = _csv(api("supervisor1").get("/api/exports/tickets.csv"))
    numbers = {r[0] for r in rows[1:]}
    assert numbers == {t.number for t in made.values()}
    assert "'+8613600136002" in {r[7] for r in rows[1:]}  # quoted: a spreadsheet would read +86… as a number
    only = _csv(api("supervisor1").get(f"/api/exports/tickets.csv?lead_unit={units['donghu'].pk}"))
    assert [r[0] for r in only[1:]] == [made["road"].number]
    log = TicketAccessLog.objects.filter(user__username="supervisor1").order_by("-id").first()
    assert log.detail["filter"] == {"lead_unit": str(units["donghu"].pk)} and log.detail["rows"] == 1
    assert api("supervisor1").get("/api/exports/tickets.csv?state=nonsense").status_code == 400


def test_xlsx_export_is_masked_the_same_way(city: Any, cats: Any, units: Any, user: Any, api: Any) -> None:
    made = _tickets(cats, units, user)
    response = api("rsj_staff").get("/api/exports/tickets.xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0] == "工单号"
    by_number = {r[0]: r for r in rows[1:]}
    assert set(by_number) == {made["open"].number, made["secret"].number}
    assert by_number[made["open"].number][7] == "136****6001"
    assert TicketAccessLog.objects.get(user__username="rsj_staff").detail["format"] == "xlsx"


def test_metrics_csv_follows_the_readers_scope_and_is_logged(
    city: Any, cats: Any, units: Any, user: Any, api: Any
) -> None:
    _tickets(cats, units, user)
    rows = _csv(api("rsj_staff").get("/api/exports/metrics.csv?period=year&date=2026-06-01"))
    assert rows[0][:3] == ["单位编码", "单位名称", "派单数"] and "综合得分" in rows[0]
    assert [r[0] for r in rows[1:]] == ["rsj"]
    assert TicketAccessLog.objects.get(user__username="rsj_staff").detail["what"] == "metrics"
