"""The one ticket page (issue 16, defect 4) and what hangs off it: scope, print, notes, attachments,
并单 from the UI with the citizens told, through Django's test client (the browser tests are in
test_ticket_page_browser.py)."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from tests.tickets.helpers import dispatched, new_ticket, staff
from tickets.core.actors import Actor
from tickets.core.models import AccessAction, Ticket, TicketAccessLog
from tickets.core.services import workflow
from tickets.intake.models import AttachmentSource, TicketAttachment
from tickets.messaging.models import SmsMessage
from tickets.notes.models import ReplyTemplate, TicketNote
from tickets.org.models import User

pytestmark = pytest.mark.django_db


def _client(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def _jpeg(colour: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.mark.parametrize("who", ["operator1", "dispatcher1", "supervisor1", "admin"])
def test_every_centre_role_opens_the_ticket_page_and_the_view_is_logged(units: Any, who: str) -> None:
    ticket, _a = dispatched(units["rsj"])
    page = _client(who).get(f"/tickets/{ticket.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert ticket.number in body and "承办单位与时限" in body and "答复时限" in body
    assert "138 1234 1234" in body  # the centre sees the number in full
    assert TicketAccessLog.objects.filter(ticket=ticket, action=AccessAction.VIEW, detail__via="page.ticket").exists()


def test_the_unit_sees_its_ticket_masked_and_another_unit_gets_the_chinese_404(units: Any) -> None:
    ticket, _a = dispatched(units["rsj"])
    own = _client("rsj_staff").get(f"/tickets/{ticket.pk}/")
    assert own.status_code == 200
    body = own.content.decode()
    assert "138 **** 1234" in body and "13812341234" not in body and "138 1234 1234" not in body
    assert "签收" in body  # the unit's own action is on the page
    other = _client("zjj_staff").get(f"/tickets/{ticket.pk}/")
    assert other.status_code == 404
    text = other.content.decode()
    assert "找不到" in text and "返回" in text and "Not Found" not in text


def test_the_old_unit_address_leads_to_the_ticket_page(units: Any) -> None:
    ticket, _a = dispatched(units["rsj"])
    for who in ("rsj_staff", "operator1"):
        answer = _client(who).get(f"/unit/tickets/{ticket.pk}/")
        assert answer.status_code == 302 and answer["Location"] == f"/tickets/{ticket.pk}/"
    assert _client("zjj_staff").get(f"/unit/tickets/{ticket.pk}/").status_code == 404


def test_history_reads_in_chinese_with_people_names(units: Any) -> None:
    ticket, _a = dispatched(units["rsj"])
    supervisor = User.objects.get(username="supervisor1")
    supervisor.last_name, supervisor.first_name = "赵", "强"
    supervisor.save()
    from tickets.supervision.services import supervision

    supervision.ticket_flag(ticket=ticket, actor=Actor.of(supervisor), reason="群众反映强烈")
    body = _client("operator1").get(f"/tickets/{ticket.pk}/").content.decode()
    assert "挂牌督办" in body and "赵强（督办员）" in body
    for code in ("supervision.issued", "assignment_created", "supervisor1", "dispatcher1"):
        assert code not in body


def test_print_sheet_is_one_page_and_logged(units: Any) -> None:
    ticket, _a = dispatched(units["rsj"])
    sheet = _client("operator1").get(f"/tickets/{ticket.pk}/print/")
    assert sheet.status_code == 200
    assert "print.css" in sheet.content.decode() and ticket.number in sheet.content.decode()
    assert TicketAccessLog.objects.filter(ticket=ticket, action=AccessAction.PRINT).count() == 1


def test_internal_notes_from_the_page_and_the_api_never_reach_the_citizen(units: Any, api: Any) -> None:
    ticket, _a = dispatched(units["rsj"])
    _client("operator1").post(f"/tickets/{ticket.pk}/notes/", {"text": "市民情绪激动，请先电话沟通"})
    answer = api("rsj_staff").post(f"/api/tickets/{ticket.pk}/notes/", {"text": "已联系，周三上门"}, format="json")
    assert answer.status_code == 201
    assert [n.text for n in TicketNote.objects.filter(ticket=ticket)] == [
        "市民情绪激动，请先电话沟通",
        "已联系，周三上门",
    ]
    listed = api("operator1").get(f"/api/tickets/{ticket.pk}/notes/").json()
    assert [n["text"] for n in listed] == ["市民情绪激动，请先电话沟通", "已联系，周三上门"]
    assert api("zjj_staff").get(f"/api/tickets/{ticket.pk}/notes/").status_code == 404
    assert api("operator1").post(f"/api/tickets/{ticket.pk}/notes/", {"text": ""}, format="json").status_code == 400
    blank = _client("rsj_staff").post(f"/tickets/{ticket.pk}/notes/", {"text": "  "}, follow=True).content.decode()
    assert "请填写备注内容" in blank  # names what is missing (was "至少需要 1 个字符")
    long = "核实情况：" + "很" * 2000
    refused = _client("rsj_staff").post(f"/tickets/{ticket.pk}/notes/", {"text": long}, follow=True).content.decode()
    assert "不能超过 2000 个字符" in refused
    assert f'aria-invalid="true" autofocus>{long}</textarea>' in refused  # back as typed, focused
    # the citizen's status page never shows them
    status = Client().post("/citizen/status/", {"number": ticket.number, "phone": "13812341234"}).content.decode()
    assert "周三上门" not in status and "情绪激动" not in status


def test_reply_with_attachments_and_a_template(units: Any, tmp_path: Any, settings: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    ticket, _a = dispatched(units["rsj"])
    ReplyTemplate.objects.create(unit=units["rsj"], title="已协调办结", body="经核实，已协调相关企业整改完毕。")
    clerk = _client("rsj_staff")
    clerk.post(f"/unit/tickets/{ticket.pk}/sign/")
    page = clerk.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "已协调办结" in page and "经核实，已协调相关企业整改完毕。" in page
    photo = SimpleUploadedFile("现场.jpg", _jpeg(), content_type="image/jpeg")
    pdf = SimpleUploadedFile("回执.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    answer = clerk.post(
        f"/unit/tickets/{ticket.pk}/reply/", {"text": "已整改完毕", "attachments": [photo, pdf]}, follow=True
    )
    assert answer.status_code == 200
    rows = list(TicketAttachment.objects.filter(ticket=ticket).order_by("id"))
    assert [(r.source, r.content_type, r.original_name) for r in rows] == [
        (AttachmentSource.UNIT_REPLY, "image/jpeg", "现场.jpg"),
        (AttachmentSource.UNIT_REPLY, "application/pdf", "回执.pdf"),
    ]
    # a refused file refuses the reply with it
    ticket2, _b = dispatched(units["rsj"])
    clerk.post(f"/unit/tickets/{ticket2.pk}/sign/")
    bad = SimpleUploadedFile("病毒.exe", b"MZ\x90\x00", content_type="application/octet-stream")
    shown = clerk.post(f"/unit/tickets/{ticket2.pk}/reply/", {"text": "已办", "attachments": [bad]}, follow=True)
    assert "附件仅支持" in shown.content.decode()
    ticket2.refresh_from_db()
    assert ticket2.state == "in_progress" and not TicketAttachment.objects.filter(ticket=ticket2).exists()


def test_attachments_are_served_only_through_the_logged_view(units: Any, tmp_path: Any, settings: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    ticket, _a = dispatched(units["rsj"])
    from tickets.intake.services import photos

    upload = SimpleUploadedFile("p.jpg", _jpeg(), content_type="image/jpeg")
    row = photos.photo_attach(ticket=ticket, photo=photos.photos_clean(files=[upload])[0])
    answer = _client("rsj_staff").get(f"/attachments/{row.pk}/")
    assert answer.status_code == 200 and answer["Content-Type"] == "image/jpeg"
    assert answer["Cache-Control"] == "private, no-store"
    assert b"".join(answer.streaming_content).startswith(b"\xff\xd8")  # type: ignore[attr-defined]
    log = TicketAccessLog.objects.get(ticket=ticket, action=AccessAction.VIEW_ATTACHMENT)
    assert log.detail == {"via": "page.attachment.full", "attachment": f"file:{row.pk}"}
    assert _client("zjj_staff").get(f"/attachments/{row.pk}/").status_code == 404
    assert Client().get(f"/attachments/{row.pk}/").status_code == 302  # to the login form
    assert Client().get(f"/media/{row.file.name}").status_code == 404  # no public media URL


def test_merge_and_unmerge_from_the_page_tell_the_citizen(units: Any) -> None:
    master, _a = dispatched(units["rsj"])
    child = new_ticket(auto_route=False, phone="13900001111", text="公司拖欠工资，请劳动监察处理")
    operator = _client("operator1")
    compare = operator.get(f"/tickets/{child.pk}/compare/{master.pk}/")
    assert compare.status_code == 200 and master.number in compare.content.decode()
    # A number that does not exist is named; a short number is not read as an internal id.
    for wrong in ("20991231999999", str(master.pk)):
        refused = operator.post(f"/tickets/{child.pk}/merge/", {"master": wrong, "reason": "同一事项"}, follow=True)
        assert f"主工单 {wrong} 不存在，请核对工单号" in refused.content.decode()
        child.refresh_from_db()
        assert child.state != "merged"
    operator.post(f"/tickets/{child.pk}/merge/", {"master": master.number, "reason": "同一事项"})
    child.refresh_from_db()
    assert child.state == "merged" and child.merged_into_id == master.pk
    told = SmsMessage.objects.filter(ticket=child, to_phone="+8613900001111").order_by("id")
    assert "已合并办理" in told.last().body  # type: ignore[union-attr]
    page = operator.get(f"/tickets/{master.pk}/").content.decode()
    assert child.number in page and "并入本单的工单" in page
    operator.post(f"/tickets/{child.pk}/unmerge/", {"reason": "不是同一事项"})
    child.refresh_from_db()
    assert child.state == "registered" and child.merged_into_id is None
    assert "恢复单独办理" in SmsMessage.objects.filter(ticket=child).order_by("id").last().body  # type: ignore[union-attr]


def test_a_supervisor_issues_supervision_from_the_ticket_page_and_returns_to_it(units: Any) -> None:
    ticket, _a = dispatched(units["rsj"])
    answer = _client("supervisor1").post(
        f"/board/tickets/{ticket.pk}/supervise/", {"reason": "请加快办理", "back": f"/tickets/{ticket.pk}/"}
    )
    assert answer.status_code == 302 and answer["Location"] == f"/tickets/{ticket.pk}/"
    outside = _client("supervisor1").post(
        f"/board/tickets/{ticket.pk}/supervise/", {"reason": "再催", "back": "https://evil.example/"}
    )
    assert outside["Location"] == "/board/"


def test_the_dispatch_list_offers_the_suggestions_first_and_preselects_nothing_unsure(units: Any, cats: Any) -> None:
    """A ticket the classifier was unsure of waits for a dispatcher with no category: the page used
    to preselect the alphabetically first category, whatever the text said."""
    ticket = new_ticket(auto_route=False)
    suggestions = [
        {"label": cats["cxjs"].name, "probability": 0.58, "category": cats["cxjs"].pk},
        {"label": cats["hjbh"].name, "probability": 0.4, "category": cats["hjbh"].pk},
    ]
    Ticket.objects.filter(pk=ticket.pk).update(classification={"suggestions": suggestions})
    page = _client("dispatcher1").get(f"/tickets/{ticket.pk}/").content.decode()
    select = re.search(r'<select name="category" id="dsp-cat" required>(.*?)</select>', page, re.S)
    assert select is not None
    options = select.group(1)
    assert " selected" not in options
    assert options.index('<option value="">请选择事项分类</option>') < options.index('label="智能分类建议"')
    first = re.findall(r'<optgroup label="智能分类建议">(.*?)</optgroup>', options, re.S)[0]
    assert re.findall(r">([^<]+)</option>", first) == [f"{cats['cxjs'].name}（58%）", f"{cats['hjbh'].name}（40%）"]
    dispatcher = _client("dispatcher1")
    back = f"/tickets/{ticket.pk}/"
    refused = dispatcher.post(f"/console/tickets/{ticket.pk}/dispatch/", {"category": "", "back": back}, follow=True)
    ticket.refresh_from_db()
    assert ticket.lead_unit_id is None
    assert refused.redirect_chain[-1][0] == back and "请选择分类" in refused.content.decode()


def test_a_dispatcher_dispatches_from_the_ticket_page(units: Any, cats: Any) -> None:
    ticket = new_ticket(auto_route=False)
    page = _client("dispatcher1").get(f"/tickets/{ticket.pk}/").content.decode()
    assert "按派单目录" in page and "派单</button>" in page
    workflow_dispatched = _client("dispatcher1").post(
        f"/console/tickets/{ticket.pk}/dispatch/",
        {
            "category": cats["labor"].pk if "labor" in cats else next(iter(cats.values())).pk,
            "back": f"/tickets/{ticket.pk}/",
        },
    )
    assert workflow_dispatched["Location"] == f"/tickets/{ticket.pk}/"
    assert workflow is not None and staff is not None


def test_redispatch_starts_with_no_street_chosen(units: Any) -> None:
    """下派 is a choice, as 派单 is: an Enter in 下派说明 must not send the ticket to the first street."""
    ticket, assignment = dispatched(units["donghu"])
    workflow.assignment_sign(assignment=assignment, actor=Actor.of(User.objects.get(username="donghu_staff")))
    page = _client("donghu_staff").get(f"/tickets/{ticket.pk}/").content.decode()
    select = re.search(r'<select name="child_unit" id="child-unit"([^>]*)>\s*<option([^>]*)>([^<]*)</option>', page)
    assert select is not None, page[:2000]
    assert "required" in select.group(1) and 'value=""' in select.group(2) and select.group(3) == "请选择下级单位"
