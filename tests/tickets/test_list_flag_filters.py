"""工单查询's 只看挂牌督办 / 只看问题工单: a supervisor finds the flagged and the escalated tickets in the
one list (and its export), a unit only those in its own scope."""

from __future__ import annotations

import io
import re
from typing import Any

import openpyxl
from django.test import Client

from tests.tickets.helpers import new_ticket, staff
from tickets.core.actors import Actor
from tickets.core.models import Ticket
from tickets.core.services import workflow
from tickets.org.models import Unit, User
from tickets.supervision.services import supervision


def _listed(username: str, **params: str) -> list[str]:
    client = Client()
    client.force_login(User.objects.get(username=username))
    page = client.get("/tickets/", params)
    assert page.status_code == 200, page.content.decode()[:500]
    return re.findall(r'data-testid="row-(\d+)"', page.content.decode())


def _dispatched(unit_code: str, text: str) -> Ticket:
    ticket = new_ticket(text=text, auto_route=False)
    operator = Actor.of(User.objects.get(username="operator1"))
    return workflow.ticket_dispatch(ticket=ticket, actor=operator, lead_unit=Unit.objects.get(code=unit_code))


def test_flagged_and_problem_tickets_are_filters_of_the_list(city: Any) -> None:
    supervisor = Actor.of(User.objects.get(username="supervisor1"))
    plain = _dispatched("rsj", "单位拖欠工资三个月，多次讨要无果。")
    flagged_rsj = _dispatched("rsj", "工地欠薪两个月，老板失联，工人讨薪无门。")
    flagged_zjj = _dispatched("zjj", "小区违建占用消防通道，多次反映无人处理。")
    problem = _dispatched("zjj", "楼道积水半年无人处理，墙皮脱落。")
    for ticket in (flagged_rsj, flagged_zjj):
        supervision.ticket_flag(ticket=ticket, actor=supervisor, reason="多次投诉未解决")
    Ticket.objects.filter(pk=problem.pk).update(is_problem=True)

    assert sorted(_listed("supervisor1", is_flagged="true")) == sorted([flagged_rsj.number, flagged_zjj.number])
    assert _listed("supervisor1", is_problem="true") == [problem.number]
    assert plain.number in _listed("supervisor1", is_flagged="false")
    assert flagged_rsj.number not in _listed("supervisor1", is_flagged="false")
    # The unit sees its own flagged ticket only: the filter narrows the scope, never widens it.
    assert _listed(staff(Unit.objects.get(code="rsj")).username, is_flagged="true") == [flagged_rsj.number]


def test_the_filter_is_kept_on_the_page_and_in_the_export(city: Any) -> None:
    supervisor = Actor.of(User.objects.get(username="supervisor1"))
    flagged = _dispatched("rsj", "工地欠薪两个月，老板失联，工人讨薪无门。")
    _dispatched("rsj", "单位拖欠工资三个月，多次讨要无果。")
    supervision.ticket_flag(ticket=flagged, actor=supervisor, reason="多次投诉未解决")
    client = Client()
    client.force_login(User.objects.get(username="supervisor1"))

    page = client.get("/tickets/", {"is_flagged": "true"}).content.decode()
    assert re.search(r'name="is_flagged" value="true"\s+checked', page)  # the box stays ticked
    assert "is_flagged=true" in page  # and the export link carries it
    export = client.get("/tickets/export.xlsx", {"is_flagged": "true"})
    assert export.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    numbers = [str(row[0]) for row in sheet.iter_rows(min_row=2, values_only=True) if row[0]]
    assert numbers == [flagged.number]


def test_a_wrong_value_is_a_chinese_refusal(city: Any) -> None:
    client = Client()
    client.force_login(User.objects.get(username="supervisor1"))
    page = client.get("/tickets/", {"is_problem": "maybe"})
    assert page.status_code == 400
    assert "问题工单" in page.content.decode()


def test_the_board_leads_to_the_whole_list_when_a_section_is_capped(city: Any, monkeypatch: Any) -> None:
    """督办看板 lists at most BOARD_SECTION_MAX per section; the heading says "N+" then, and every
    section links to 工单查询 under the same filter, where the rest are."""
    from tickets.core import selectors

    monkeypatch.setattr(selectors, "BOARD_SECTION_MAX", 2)
    supervisor = Actor.of(User.objects.get(username="supervisor1"))
    for text in ("工地欠薪两个月，老板失联。", "小区违建占用消防通道。", "楼道积水半年无人处理。"):
        supervision.ticket_flag(ticket=_dispatched("rsj", text), actor=supervisor, reason="多次投诉未解决")
    client = Client()
    client.force_login(User.objects.get(username="supervisor1"))

    board = client.get("/board/").content.decode()
    problem = re.search(r'data-testid="board-problem".*?</section>', board, re.S)
    assert problem is not None
    assert "问题工单与挂牌督办（2+）" in problem.group(0) and "这里只列出 2 件" in problem.group(0)
    assert 'href="/tickets/?is_flagged=true"' in problem.group(0)
    assert len(_listed("supervisor1", is_flagged="true")) == 3  # all three are there


def test_reversed_dates_are_a_refusal_not_an_empty_list(city: Any) -> None:
    client = Client()
    client.force_login(User.objects.get(username="supervisor1"))
    page = client.get("/tickets/", {"date_from": "2026-12-10", "date_to": "2026-12-01"})
    assert page.status_code == 400 and "受理日期止不能早于受理日期起" in page.content.decode()
    assert client.get("/tickets/", {"date_from": "2026-12-01", "date_to": "2026-12-01"}).status_code == 200


def test_a_board_refusal_names_its_ticket_and_a_flag_nobody_receives_says_so(city: Any) -> None:
    client = Client()
    client.force_login(User.objects.get(username="supervisor1"))
    handled = _dispatched("rsj", "工地欠薪两个月，老板失联，工人讨薪无门。")
    empty = client.post(f"/board/tickets/{handled.pk}/flag/", {"reason": ""}, follow=True).content.decode()
    assert f"工单 {handled.number}：请填写挂牌督办理由" in empty

    waiting = new_ticket(text="楼道积水半年无人处理，墙皮脱落。", auto_route=False)  # no unit yet
    answer = client.post(f"/board/tickets/{waiting.pk}/flag/", {"reason": "多次来电"}, follow=True).content.decode()
    assert f"工单 {waiting.number} 已挂牌督办" in answer and "未通知任何单位" in answer
    flagged = client.post(f"/board/tickets/{handled.pk}/flag/", {"reason": "多次来电"}, follow=True).content.decode()
    assert "未通知任何单位" not in flagged
