"""Exports of tickets and scorecards (CSV, XLSX), streamed, limited and masked by the reader's role.

Rows come from `selectors.ticket_list(user)` (unit staff: their own tickets only) and every citizen
field and the title pass through `tickets.core.privacy` for the reader. Every export is written to
TicketAccessLog (action export) with the filter and the row count before the first byte is sent (domain.md §7).

Titles, names and addresses are typed by citizens; a spreadsheet must never run them as formulas
(OWASP CSV injection). Every cell is written by `csv_stream` or `xlsx_file`, and both ask
`cell_is_formula_like`: CSV cells that a spreadsheet would evaluate get a leading `'`, XLSX cells
are typed strings carrying Excel's quote-prefix style (shown unchanged, still text after an edit).
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import xlsxwriter
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.datastructures import MultiValueDict

from tickets.core import privacy
from tickets.core.models import AccessAction, Ticket, TicketAccessLog
from tickets.db_router import read_alias
from tickets.org.models import User

TICKET_HEADER = [
    "工单号", "渠道", "类型", "紧急程度", "状态", "标题", "市民姓名", "联系电话", "地址",
    "事项分类", "主办单位", "受理时间", "办结时限", "办结时间", "办理结果", "重办次数",
]  # fmt: skip
CHUNK = 2000


def _local(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def ticket_rows(tickets: QuerySet[Ticket], user: User) -> Iterator[list[Any]]:
    """One list per ticket; a server-side cursor keeps memory flat for a million rows."""
    for ticket in tickets.iterator(chunk_size=CHUNK):
        citizen = privacy.citizen_view(ticket, user)
        yield [
            ticket.number,
            ticket.get_channel_display(),
            ticket.get_kind_display(),
            ticket.get_urgency_display(),
            ticket.get_state_display(),
            privacy.citizen_text(ticket.title, ticket, user),
            citizen["citizen_name"],
            citizen["citizen_phone"],
            citizen["citizen_address"],
            ticket.category.name if ticket.category else "",
            ticket.lead_unit.name if ticket.lead_unit else "",
            _local(ticket.created_at),
            _local(ticket.due_at),
            _local(ticket.closed_at),
            ticket.get_outcome_display() if ticket.outcome else "",
            ticket.reopen_count,
        ]


def export_limit() -> int:
    return int(getattr(settings, "EXPORT_MAX_ROWS", 1_000_000))


def export_filters(query: MultiValueDict[str, str]) -> dict[str, str]:
    """The filter an export is logged with: every value of a repeated parameter, joined by ","
    (?state=registered&state=dispatching is {"state": "registered,dispatching"}), so the log says
    what was exported, not only the last value (domain.md §7)."""
    return {key: ",".join(values) for key, values in query.lists()}


def export_prepare(*, user: User, tickets: QuerySet[Ticket], what: str, fmt: str, filters: dict[str, Any]) -> QuerySet:
    """Cap the rows and record the export; returns the queryset to stream (newest first).

    The rows are read from the read replica when one is configured (they are streamed after
    the view returned, so the alias is pinned on the queryset); the access log is a write.
    """
    limited = tickets.using(read_alias()).order_by("-id")[: export_limit()]
    rows = limited.count()
    TicketAccessLog.objects.create(
        user=user, action=AccessAction.EXPORT, detail={"what": what, "format": fmt, "filter": filters, "rows": rows}
    )
    return limited


def export_log_metrics(*, user: User, filters: dict[str, Any], rows: int) -> None:
    TicketAccessLog.objects.create(
        user=user,
        action=AccessAction.EXPORT,
        detail={"what": "metrics", "format": "csv", "filter": filters, "rows": rows},
    )


# What makes Excel, LibreOffice or Google Sheets read a cell as a formula (=, +, -, @) or start a
# new field on import (tab, carriage return): OWASP "CSV Injection". Leading blanks do not make a
# cell safe: an import that trims spaces (LibreOffice's "Trim spaces") leaves the formula bare.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_LEADING_BLANKS = " \u3000\n"


def cell_is_formula_like(value: object) -> bool:
    """A text cell a spreadsheet could evaluate: it starts, after blanks, with = + - @ tab or CR."""
    if not isinstance(value, str):
        return False
    return value.startswith(_FORMULA_STARTS) or value.lstrip(_LEADING_BLANKS).startswith(_FORMULA_STARTS)


def csv_cell(value: Any) -> Any:
    """A CSV cell with formula-like text neutralised by a leading ' (OWASP); anything else unchanged.

    A phone number in E.164 (+8613812341234) gets it too: unquoted, a spreadsheet shows it as the
    number 8.61E+12; with the quote every digit stays readable as text."""
    return f"'{value}" if cell_is_formula_like(value) else value


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_stream(header: list[str], rows: Iterable[list[Any]]) -> Iterator[str]:
    """CSV lines with a UTF-8 BOM so that Excel opens the Chinese text correctly."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([csv_cell(v) for v in header])
    for row in rows:
        yield writer.writerow([csv_cell(v) for v in row])


def xlsx_file(header: list[str], rows: Iterable[list[Any]], sheet: str) -> IO[bytes]:
    """Write an XLSX with xlsxwriter's constant_memory mode to a temp file; return it open for streaming.

    The file is unlinked at once (POSIX keeps it readable through the open handle), so nothing is
    left on disk when the response is closed.
    """
    fd, name = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    path = Path(name)
    try:
        # xlsxwriter's write() turns "=…" into a formula and "http…" into a link by default; every
        # cell is written with an explicit type instead, and these options stay off as a second guard.
        book = xlsxwriter.Workbook(
            name,
            {
                "constant_memory": True,
                "tmpdir": tempfile.gettempdir(),
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        page = book.add_worksheet(sheet)
        quoted = book.add_format({"quote_prefix": True})
        _xlsx_row(page, 0, header, quoted)
        for i, row in enumerate(rows, start=1):
            _xlsx_row(page, i, row, quoted)
        book.close()
        handle = path.open("rb")  # closed by the FileResponse
    finally:
        path.unlink()
    return handle


def _xlsx_row(page: Any, index: int, row: list[Any], quoted: Any) -> None:
    """Numbers as numbers, everything else as a string; formula-like text with Excel's quote
    prefix, so the cell shows the citizen's text as typed and stays text when someone edits it."""
    for column, value in enumerate(row):
        if value is None or value == "":
            page.write_blank(index, column, None)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            page.write_number(index, column, value)
        elif cell_is_formula_like(value):
            page.write_string(index, column, str(value), quoted)
        else:
            page.write_string(index, column, str(value))
