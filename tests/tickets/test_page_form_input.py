"""The staff pages refuse what the API refuses, with the same rule and a Chinese message on the page,
and change nothing (issue 14, finding 8).

Before: the console stored an over-long name or address straight into a varchar column (PostgreSQL:
DataError, HTTP 500) and dropped control characters the API refuses; a NUL byte in a unit's reply or
a return's legal basis failed at PostgreSQL (HTTP 500). The rule now lives in the services
(`tickets/core/text.py`) and every door calls it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.tickets.helpers import dispatched
from tickets.core.actors import Actor
from tickets.core.models import Assignment, Ticket, TicketEvent
from tickets.core.services import workflow

FORM = {"kind": "help", "urgency": "normal", "text": "小区路灯损坏，晚上出行不便。", "citizen_phone": "13812341234"}

BAD_TICKET_FIELDS = [
    ({"citizen_name": "张" * 65}, "citizen_name", "市民姓名不能超过 64 个字符"),
    ({"citizen_address": "路" * 256}, "citizen_address", "地址不能超过 255 个字符"),
    ({"text": "长" * 5001}, "text", "诉求内容不能超过 5000 个字符"),
    ({"text": "含有空字符\x00的内容"}, "text", "诉求内容包含不允许的控制字符"),
    ({"citizen_name": "张\x00三"}, "citizen_name", "市民姓名包含不允许的控制字符"),
    ({"citizen_address": "新华路\x1b8号"}, "citizen_address", "地址包含不允许的控制字符"),
    ({"text": "短"}, "text", "诉求内容至少需要 2 个字符"),
    ({"text": ""}, "text", "请填写诉求内容"),
]


def _page(username: str, user: Any) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user(username))
    return client


def _messages(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.mark.parametrize(("patch", "field", "message"), BAD_TICKET_FIELDS, ids=[f for _, f, _ in BAD_TICKET_FIELDS])
def test_the_console_form_and_the_api_refuse_the_same_ticket_input_alike(
    patch: dict[str, str], field: str, message: str, user: Any, api: Any
) -> None:
    page = _page("operator1", user).post("/console/tickets/", {**FORM, **patch})
    assert page.status_code == 400
    assert any(message in m for m in _messages(page)), _messages(page)
    assert message in page.content.decode()  # shown on the re-rendered form
    assert not Ticket.objects.exists() and not TicketEvent.objects.exists()

    # The API applies the same rule to the same input (the app's own minimum aside: `text` 5+).
    answer = api("operator1").post("/api/tickets/", {**FORM, **patch}, format="json")
    assert answer.status_code == 400 and answer.json()["field"] == field, answer.json()
    if patch.get(field):  # a blank value is DRF's own "required" answer
        assert message.removeprefix("请填写") in answer.json()["detail"] or answer.json()["errors"][field]
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("action", "form", "message"),
    [
        ("reply", {"text": "已处理\x00完毕"}, "办理结果包含不允许的控制字符"),
        ("reply", {"text": "答" * 5001}, "办理结果不能超过 5000 个字符"),
        ("return", {"reason": "不属于本单位职责", "legal_basis": "依" * 256}, "法律法规或职责依据不能超过 255 个字符"),
        ("return", {"reason": "不属于\x00本单位", "legal_basis": "三定方案"}, "退回理由包含不允许的控制字符"),
        ("extension", {"reason": "需要现场勘查", "until": "9999-12-31T23:59"}, "日期超出支持范围"),
        ("extension", {"reason": "需要现场勘查", "until": "0001-01-01T00:00"}, "日期超出支持范围"),
        ("redispatch", {"child_unit": "9" * 30, "note": "请街道处理"}, "请选择下级单位"),
    ],
)
def test_a_units_forms_refuse_bad_text_and_dates_on_the_page_and_change_nothing(
    action: str, form: dict[str, str], message: str, units: Any, user: Any
) -> None:
    ticket, assignment = dispatched(units["rsj"])
    workflow.assignment_sign(assignment=assignment, actor=Actor.of(user("rsj_staff")))
    before = TicketEvent.objects.count()
    response = _page("rsj_staff", user).post(f"/unit/tickets/{ticket.pk}/{action}/", form, follow=True)
    assert response.status_code == 200
    assert any(message in m for m in _messages(response)), _messages(response)
    assert message in response.content.decode()
    fresh = Assignment.objects.get(pk=assignment.pk)
    assert fresh.state == "signed" and fresh.reply_text == "" and fresh.return_legal_basis == ""
    assert TicketEvent.objects.count() == before


def test_console_reasons_and_draft_completion_follow_the_same_rule(units: Any, user: Any) -> None:
    ticket, _ = dispatched(units["rsj"])
    console = _page("supervisor1", user)
    before = TicketEvent.objects.count()
    board = console.post(f"/board/tickets/{ticket.pk}/flag/", {"reason": "群众反映\x00强烈"}, follow=True)
    assert any("挂牌督办理由包含不允许的控制字符" in m for m in _messages(board)), _messages(board)
    long_reason = console.post(f"/board/tickets/{ticket.pk}/supervise/", {"reason": "督" * 2001}, follow=True)
    assert any("督办意见不能超过 2000 个字符" in m for m in _messages(long_reason)), _messages(long_reason)
    assert TicketEvent.objects.count() == before
    assert not Ticket.objects.get(pk=ticket.pk).is_flagged


def test_a_refused_unit_form_comes_back_as_typed_with_its_field_marked(units: Any, user: Any) -> None:
    """A street clerk's 办复 refused for a wrong attachment keeps its text (only the file must be
    chosen again); a 退回 refused for its missing basis comes back open with the reason kept."""
    ticket, assignment = dispatched(units["rsj"])
    workflow.assignment_sign(assignment=assignment, actor=Actor.of(user("rsj_staff")))
    clerk = _page("rsj_staff", user)
    reply = "已于12月5日联系企业负责人，责令其在三日内补发拖欠工资，并已电话告知市民。"
    fake = SimpleUploadedFile("现场.jpg", b"not really a picture", content_type="image/jpeg")
    page = clerk.post(
        f"/unit/tickets/{ticket.pk}/reply/", {"text": reply, "attachments": [fake]}, follow=True
    ).content.decode()
    assert "附件仅支持照片" in page
    assert re.search(r'<textarea name="text" id="reply-text" required[^>]*>' + re.escape(reply) + "</textarea>", page)
    assert re.search(r'id="reply-files"[^>]*aria-invalid="true" autofocus', page)
    assert "已保留填写的办复内容，附件请重新选择。" in page
    assert Assignment.objects.get(pk=assignment.pk).state == "signed"  # nothing stored
    again = clerk.get(f"/tickets/{ticket.pk}/").content.decode()
    assert reply not in again  # kept once, for the page the refusal returned to

    page = clerk.post(
        f"/unit/tickets/{ticket.pk}/return/", {"reason": "该企业注册地在邻市", "legal_basis": ""}, follow=True
    ).content.decode()
    assert "<details open><summary>申请退回</summary>" in page
    assert ">该企业注册地在邻市</textarea>" in page
    assert re.search(r'id="return-basis" required aria-invalid="true" autofocus', page)
