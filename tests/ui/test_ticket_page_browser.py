"""Issue 16, defects 3, 4 and 5 in Debian's Chromium: every role opens a ticket from its lists and
sees the whole story in Chinese, photos as thumbnails with a viewer, and error pages with a way back.

Each test fails on the code before issue 16: ticket numbers were plain text, /unit/tickets/<id>/
was a 404 for the centre, no role could see a citizen's photo, history showed codes, and a
missing page was Django's English "Not Found".
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from tests.tickets.helpers import dispatched, new_ticket
from tests.ui.conftest import DESKTOP, PHONE, login, screenshot
from tickets.core.actors import Actor
from tickets.core.models import AccessAction, Ticket, TicketAccessLog
from tickets.core.services import workflow
from tickets.demo import city as city_module
from tickets.intake.services import photos
from tickets.notes.models import ReplyTemplate
from tickets.org.models import User
from tickets.supervision.services import supervision

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _photo(ticket: Any, colour: str = "orange") -> Any:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(buffer, format="JPEG")
    upload = SimpleUploadedFile("photo.jpg", buffer.getvalue(), content_type="image/jpeg")
    return photos.photo_attach(ticket=ticket, photo=photos.photos_clean(files=[upload])[0])


def _both_widths(page: Any, name: str) -> None:
    screenshot(page, name)
    page.set_viewport_size(PHONE)
    screenshot(page, name)
    page.set_viewport_size(DESKTOP)


def test_defect4_every_role_opens_the_ticket_from_its_lists(
    city: Any, units: Any, new_page: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    ticket, _a = dispatched(units["rsj"])
    waiting = new_ticket(auto_route=False, phone="13900004444", text="小区路灯不亮已经一周，晚上出行不安全")

    # The operator: the live list's number is a link to the one ticket page.
    operator = new_page()
    login(operator, "operator1")
    operator.get_by_test_id("live-list").get_by_role("link", name=ticket.number).click()
    expect(operator).to_have_url(re.compile(rf"/tickets/{ticket.pk}/$"))
    expect(operator.get_by_test_id("ticket-number")).to_have_text(ticket.number)
    expect(operator.get_by_test_id("assignments")).to_contain_text("市人社局")
    expect(operator.get_by_test_id("history")).to_contain_text("派单至单位")
    _both_widths(operator, "ticket-operator")

    # The dispatcher: from the queue to the page, 派单 there, back on the page.
    dispatcher = new_page()
    login(dispatcher, "dispatcher1")
    dispatcher.goto("/console/")
    dispatcher.get_by_test_id("dispatch-queue").get_by_role("link", name=waiting.number, exact=True).click()
    expect(dispatcher).to_have_url(re.compile(rf"/tickets/{waiting.pk}/$"))
    # Not yet classified: nothing is chosen for the dispatcher, and 派单 waits for a choice.
    choice = dispatcher.get_by_label("事项分类")
    expect(choice).to_have_value("")
    dispatcher.get_by_role("button", name="派单", exact=True).click()
    assert choice.evaluate("el => el.validity.valueMissing")  # the browser asks for a category
    assert Ticket.objects.get(pk=waiting.pk).lead_unit_id is None
    choice.select_option(label="城乡建设")
    dispatcher.get_by_role("button", name="派单", exact=True).click()
    expect(dispatcher).to_have_url(re.compile(rf"/tickets/{waiting.pk}/$"))
    expect(dispatcher.get_by_role("status")).to_contain_text(waiting.number)

    # The supervisor: from the board to the page, 督办 issued there and listed there.
    Ticket.objects.filter(pk=ticket.pk).update(due_at=timezone.now() - timedelta(hours=3))
    supervisor = new_page()
    login(supervisor, "supervisor1")
    supervisor.goto("/board/")
    supervisor.get_by_test_id("board-overdue").get_by_role("link", name=ticket.number).first.click()
    expect(supervisor).to_have_url(re.compile(rf"/tickets/{ticket.pk}/$"))
    form = supervisor.get_by_test_id("supervise-form")
    form.get_by_label("督办意见 / 挂牌理由").fill("请于明日前办结")
    form.get_by_role("button", name="督办", exact=True).click()
    expect(supervisor).to_have_url(re.compile(rf"/tickets/{ticket.pk}/$"))
    expect(supervisor.get_by_test_id("supervisions")).to_contain_text("请于明日前办结")
    _both_widths(supervisor, "ticket-supervisor")

    # The unit clerk: inbox → page, 签收, reply with a template and a photo; the old address still works.
    ReplyTemplate.objects.create(unit=units["rsj"], title="已协调企业整改", body="经核实，已协调相关企业限期整改。")
    clerk = new_page()
    login(clerk, "rsj_staff")
    clerk.get_by_role("link", name=ticket.number).click()
    expect(clerk).to_have_url(re.compile(rf"/tickets/{ticket.pk}/$"))
    expect(clerk.get_by_test_id("phone-masked")).to_have_text("138 **** 1234")
    clerk.get_by_role("button", name="签收").click()
    expect(clerk.get_by_role("status")).to_contain_text("已签收")
    clerk.get_by_label("答复模板").select_option(label="已协调企业整改")  # the unit's reply template
    expect(clerk.get_by_label("办理结果（办复）")).to_have_value("经核实，已协调相关企业限期整改。")
    clerk.get_by_label("办理结果（办复）").fill("已责成企业于本周内足额支付拖欠工资。")
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), "green").save(buffer, format="JPEG")
    clerk.get_by_label("附件（照片或 PDF，选填）").set_input_files(
        {"name": "现场.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}
    )
    clerk.get_by_role("button", name="提交办复").click()
    expect(clerk.get_by_role("status")).to_contain_text("已办复")
    expect(clerk.get_by_test_id("attachments").locator("img")).to_have_count(1)
    _both_widths(clerk, "ticket-unit")
    clerk.goto(f"/unit/tickets/{ticket.pk}/")
    expect(clerk).to_have_url(re.compile(rf"/tickets/{ticket.pk}/$"))

    # Another unit: the styled Chinese 404.
    other = new_page()
    login(other, "zjj_staff")
    response = other.goto(f"/tickets/{ticket.pk}/")
    assert response is not None and response.status == 404
    expect(other.get_by_test_id("error-page")).to_contain_text("找不到")

    # The printed sheet.
    operator.goto(f"/tickets/{ticket.pk}/print/")
    expect(operator.get_by_test_id("print-sheet")).to_contain_text(ticket.number)
    _both_widths(operator, "ticket-print")


def test_defect3_photos_are_thumbnails_with_a_viewer_and_each_look_is_logged(
    city: Any, units: Any, new_page: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    ticket, _a = dispatched(units["rsj"])
    photo = _photo(ticket)

    for username in ("rsj_staff", "operator1"):
        page = new_page()
        login(page, username)
        page.goto(f"/tickets/{ticket.pk}/")
        thumb = page.get_by_test_id(f"thumb-{photo.pk}").locator("img")
        expect(thumb).to_be_visible()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
        page.get_by_test_id(f"thumb-{photo.pk}").click()
        viewer = page.locator("#viewer")
        expect(viewer).to_be_visible()
        page.wait_for_function("() => document.getElementById('viewer-img').naturalWidth === 640")
        if username == "rsj_staff":
            screenshot(page, "ticket-photo-viewer")
        viewer.get_by_role("button", name="关闭").click()
        expect(viewer).to_be_hidden()
        logged = TicketAccessLog.objects.filter(
            ticket=ticket, user__username=username, action=AccessAction.VIEW_ATTACHMENT
        )
        assert {row.detail["via"] for row in logged} == {"page.attachment.thumb", "page.attachment.full"}
    # (No public media address serves it: tests/ui/test_ticket_page.py asks the project's URL map;
    # the test live server itself serves MEDIA_URL, so a browser here would prove nothing.)


def test_defect5_history_and_error_pages_read_in_chinese(city: Any, units: Any, new_page: Any) -> None:
    ticket, _a = dispatched(units["rsj"])
    chief = User.objects.get(username="supervisor1")
    supervision.ticket_flag(ticket=ticket, actor=Actor.of(chief), reason="群众反映强烈")
    child = new_ticket(auto_route=False, phone="13900005555")
    workflow.ticket_merge(
        ticket=child, master=ticket, actor=Actor.of(User.objects.get(username="dispatcher1")), reason="同一事项"
    )

    page = new_page()
    login(page, "supervisor1")
    page.goto(f"/tickets/{ticket.pk}/")
    history = page.get_by_test_id("history")
    expect(history).to_contain_text("挂牌督办")
    expect(history).to_contain_text("其他工单并入本单")
    expect(history).to_contain_text(f"{chief.last_name}{chief.first_name}（督办员）")
    text = history.inner_text()
    for code in ("child_merged", "supervision.issued", "assignment_created", "supervisor1", "dispatcher1"):
        assert code not in text
    expect(page.get_by_test_id("merges")).to_contain_text(child.number)

    # A page that does not exist: Chinese, what to do next, and a way back that works.
    response = page.goto("/tickets/999999999/")
    assert response is not None and response.status == 404
    error = page.get_by_test_id("error-page")
    expect(error).to_contain_text("找不到您要的页面或工单")
    expect(error).to_contain_text("接下来可以")
    assert "Not Found" not in page.content()
    _both_widths(page, "error-404")
    error.get_by_role("link", name="回到首页").click()
    expect(page).to_have_url(re.compile(r"/(board/)?$"))

    # The admin: Chinese header, names and labels, no "Django 管理".
    admin = new_page()
    admin.goto("/admin/login/?next=/admin/")
    admin.get_by_label("用户名").fill("admin")
    admin.get_by_label("密码").fill(city_module.ADMIN_PASSWORD)
    admin.get_by_role("button", name="登录").click()
    expect(admin.locator("#content")).to_contain_text("工单")
    expect(admin.locator("#site-name")).to_have_text("12345 工单系统 · 后台管理")
    _both_widths(admin, "admin-index")
    admin.goto("/admin/tickets/ticketevent/")
    expect(admin.locator("#result_list")).to_contain_text("其他工单并入本单")
    assert "child_merged" not in admin.locator("#result_list").inner_text()
    _both_widths(admin, "admin-events")


def test_merge_from_the_compare_page_and_unmerge(city: Any, units: Any, new_page: Any) -> None:
    master, _a = dispatched(units["rsj"], text="公司拖欠三个月工资不发，请劳动监察处理")
    child = new_ticket(auto_route=False, phone="13812341234", text="公司拖欠三个月工资不发，请劳动监察帮忙")
    page = new_page()
    login(page, "operator1")
    page.goto(f"/tickets/{child.pk}/")
    page.get_by_test_id(f"compare-{master.number}").click()
    expect(page.get_by_test_id("compare")).to_contain_text(master.number)
    _both_widths(page, "ticket-compare")
    page.get_by_test_id(f"merge-{child.number}-into-{master.number}").click()
    expect(page).to_have_url(re.compile(rf"/tickets/{master.pk}/$"))
    expect(page.get_by_role("status")).to_contain_text("已短信告知市民")
    expect(page.get_by_test_id("merges")).to_contain_text(child.number)
    page.get_by_test_id("merges").get_by_role("link", name=child.number).click()
    page.get_by_role("button", name="取消并单").click()
    expect(page.get_by_role("status")).to_contain_text("恢复单独办理")
    expect(page.get_by_test_id("ticket-state")).to_have_text("已受理")
