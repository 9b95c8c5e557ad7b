"""Issue 16, defect 7: the smaller defects, each as a user would notice it (browser, Debian's Chromium)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from playwright.sync_api import expect

from tests.ui.conftest import DESKTOP, PHONE, login, screenshot
from tests.ui.test_board_console import _actor, _in_rating
from tickets.core.models import Assignment, Ticket
from tickets.core.services import workflow
from tickets.intake.services import intake
from tickets.jobs.models import BackgroundJob
from tickets.messaging.models import SmsMessage
from tickets.messaging.services import sms
from tickets.org.models import Category, Unit

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LONG_URL = "https://example.com/" + "a" * 300


def _queued(text: str, suggestions: list[tuple[str, float]]) -> Ticket:
    """A ticket waiting for a dispatcher with the classifier's suggestions (category name, probability)."""
    ticket = intake.ticket_create(
        actor=_actor("operator1"), channel="phone", text=text, citizen_phone="13900083352", auto_route=False
    )
    rows = [
        {"label": name, "probability": p, "category": Category.objects.get(name=name).pk} for name, p in suggestions
    ]
    Ticket.objects.filter(pk=ticket.pk).update(
        state="dispatching", classification={"label": suggestions[0][0], "suggestions": rows}
    )
    return ticket


def test_queue_keeps_dispatch_buttons_inside_with_a_long_url(city: Any, new_page: Any) -> None:
    ticket = _queued(f"投诉链接 {LONG_URL} 里的商家不退预付卡的钱", [("预付卡退费", 0.71)])
    for viewport in (DESKTOP, PHONE):
        page = new_page(viewport)
        login(page, "operator1")
        panel = page.locator("#panel-queue").bounding_box()
        button = page.locator(f"#queue-{ticket.pk}").get_by_role("button", name="派单", exact=True).bounding_box()
        assert panel is not None and button is not None
        assert button["x"] + button["width"] <= panel["x"] + panel["width"], (viewport, panel, button)
        page.locator(f"#queue-{ticket.pk}").scroll_into_view_if_needed()
        screenshot(page, "console-queue")


def test_other_category_defaults_to_the_top_suggestion_and_a_low_one_asks_to_confirm(city: Any, new_page: Any) -> None:
    ticket = _queued("我想反映一下那个事情，具体也说不清楚", [("劳动和社会保障", 0.02), ("卫生计生", 0.01)])
    page = new_page()
    login(page, "dispatcher1")
    row = page.locator(f"#queue-{ticket.pk}")
    expect(row.get_by_label("其他分类")).to_have_value(str(Category.objects.get(name="劳动和社会保障").pk))
    row.get_by_role("button", name=f"按“劳动和社会保障”派单 {ticket.number}").click()
    expect(page.get_by_role("status")).to_contain_text("置信度仅 2%")  # warned, not dispatched
    ticket.refresh_from_db()
    assert ticket.state == "dispatching"
    confirm = page.get_by_test_id(f"low-confirm-{ticket.pk}")
    screenshot(page, "console-low-confirm")
    page.set_viewport_size(PHONE)
    screenshot(page, "console-low-confirm")
    page.set_viewport_size(DESKTOP)
    expect(confirm).to_contain_text("“劳动和社会保障”的置信度仅 2%")
    confirm.get_by_role("button", name="确认按“劳动和社会保障”派单").click()
    expect(page.get_by_role("status")).to_contain_text(f"工单 {ticket.number} 已派单至 市人社局")  # names the unit
    ticket.refresh_from_db()
    assert ticket.state == "in_progress" and ticket.lead_unit.code == "rsj"


def test_clicking_the_top_suggestion_is_a_confirmation_not_a_manual_change(city: Any, new_page: Any) -> None:
    ticket = _queued("公司拖欠我两个月工资不发", [("劳动和社会保障", 0.55), ("卫生计生", 0.2)])
    page = new_page()
    login(page, "dispatcher1")
    page.locator(f"#queue-{ticket.pk}").get_by_role("button", name=f"按“劳动和社会保障”派单 {ticket.number}").click()
    expect(page.get_by_role("status")).to_contain_text("已派单至 市人社局")
    actions = list(ticket.events.values_list("action", flat=True))
    assert "category_confirmed" in actions and "category_changed" not in actions


def test_a_replied_ticket_stays_in_the_unit_lists(city: Any, new_page: Any) -> None:
    ticket = intake.ticket_create(
        actor=_actor("operator1"), channel="phone", text="单位不给缴社保", citizen_phone="13900083352", auto_route=False
    )
    workflow.ticket_dispatch(ticket=ticket, actor=_actor("operator1"), lead_unit=Unit.objects.get(code="rsj"))
    lead = ticket.assignments.get(role="lead")
    workflow.assignment_sign(assignment=lead, actor=_actor("rsj_staff"))
    workflow.assignment_reply(assignment=lead, actor=_actor("rsj_staff"), text="已责令企业补缴")
    page = new_page()
    login(page, "rsj_staff")
    replied = page.get_by_test_id(f"replied-row-{ticket.number}")
    expect(replied).to_be_visible()
    expect(replied).to_contain_text("已办复")  # the ticket's state: waiting for the centre
    screenshot(page, "unit-inbox")
    page.set_viewport_size(PHONE)
    screenshot(page, "unit-inbox")


def test_board_shows_an_issued_supervision_and_how_long_overdue(city: Any, new_page: Any) -> None:
    ticket = intake.ticket_create(
        actor=_actor("operator1"), channel="phone", text="路面塌陷一直没人修", auto_route=False
    )
    workflow.ticket_dispatch(ticket=ticket, actor=_actor("operator1"), lead_unit=Unit.objects.get(code="rsj"))
    late = timezone.now() - timedelta(days=2, hours=3, minutes=10)
    Ticket.objects.filter(pk=ticket.pk).update(due_at=late)
    Assignment.objects.filter(ticket=ticket).update(reply_due_at=late)
    page = new_page()
    login(page, "supervisor1")
    page.goto("/board/")
    expect(page.get_by_test_id(f"overdue-{ticket.number}")).to_have_text("超期 2 天 3 小时")
    form = page.get_by_test_id(f"supervise-{ticket.number}").first
    form.get_by_role("textbox").fill("请两日内处理完毕")
    form.get_by_role("button", name="督办", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("已发出督办")
    expect(page.get_by_test_id(f"supervised-{ticket.number}").first).to_contain_text("已人工督办")
    expect(
        page.get_by_test_id(f"supervise-{ticket.number}").first.get_by_role("button", name="再次督办")
    ).to_be_visible()
    screenshot(page, "board")
    page.set_viewport_size(PHONE)
    screenshot(page, "board")


def test_scorecards_say_no_data_and_show_the_data_time(city: Any, new_page: Any) -> None:
    _in_rating("社保卡补办一直没有进度", phone="13800001111")
    page = new_page()
    login(page, "supervisor1")
    page.goto("/board/scorecards/")
    expect(page.locator("#scorecards")).to_have_attribute("data-loaded", "1")
    status = page.get_by_test_id("scorecards-status")
    expect(status).to_contain_text(re.compile(r"数据时间：\d{4}-\d{2}-\d{2} \d{2}:\d{2}"))
    expect(page.get_by_test_id("satisfaction-rsj")).to_have_text("无数据")
    assert "—" not in page.get_by_test_id("units-table").inner_text()
    screenshot(page, "board-scorecards")
    page.set_viewport_size(PHONE)
    screenshot(page, "board-scorecards")


def test_a_failed_job_shows_failed_in_chinese_without_a_server_path(
    city: Any, new_page: Any, eager_celery: None
) -> None:
    page = new_page()
    login(page, "supervisor1")
    page.goto("/board/jobs/")
    bad = SimpleUploadedFile("cn-2031.toml", b"year = 2031\n[[holidays]\nname = 1\n")
    page.get_by_label("年度节假日安排文件").set_input_files(
        files=[{"name": bad.name, "mimeType": "text/plain", "buffer": bad.read()}]
    )
    page.get_by_role("button", name="开始导入").click()
    job = BackgroundJob.objects.get(kind="calendar_import")
    row = page.locator(f"#job-{job.pk}")
    expect(row.locator("[data-job-state]")).to_have_text("失败")
    message = row.locator("[data-job-message]")
    expect(message).to_contain_text("日历文件有误")
    text = message.inner_text()
    assert (
        "/tmp" not in text
        and "cannot parse" not in text
        and not re.search(
            r"[A-Za-z]{4,}",
            text.replace("TOML", "")
            .replace("JSON", "")
            .replace("toml", "")
            .replace("example", "")
            .replace("tickets/sla/data/cn-", ""),
        )
    ), text
    assert int(row.locator("progress").get_attribute("value") or 0) < 100  # not a full bar
    screenshot(page, "board-jobs-failed")
    page.set_viewport_size(PHONE)
    screenshot(page, "board-jobs-failed")


def test_a_code_resent_within_a_minute_in_a_new_session_still_offers_the_code_field(city: Any, new_page: Any) -> None:
    first = new_page(PHONE)
    first.goto("/citizen/verify/")
    first.get_by_label("手机号码").fill("13900083352")
    first.get_by_role("button", name="获取验证码").click()
    expect(first.get_by_label("短信验证码")).to_be_visible()
    second = new_page(PHONE)  # another browser session, within 60 s
    second.goto("/citizen/verify/")
    second.get_by_label("手机号码").fill("13900083352")
    second.get_by_role("button", name="获取验证码").click()
    expect(second.get_by_role("alert")).to_contain_text("秒后再试")
    expect(second.get_by_label("短信验证码")).to_be_visible()
    screenshot(second, "citizen-verify-resend")
    second.set_viewport_size(DESKTOP)
    screenshot(second, "citizen-verify-resend")
    code = re.search(r"验证码是(\d{6})", SmsMessage.objects.get(purpose="verification").body)
    assert code is not None
    second.get_by_label("短信验证码").fill(code.group(1))
    second.get_by_role("button", name="验证并继续").click()
    expect(second).to_have_url(re.compile(r"/citizen/submit/$"))


def test_sms_outbox_columns_are_readable_and_phones_in_national_form(city: Any, new_page: Any) -> None:
    for _ in range(3):
        sms.sms_enqueue(
            to="+8613900083352",
            body="【12345热线】您的诉求已受理，工单号20261202000001，已转交市人社局办理，请保持电话畅通。" * 2,
            purpose="received",
        )
    for viewport in (DESKTOP, PHONE):
        page = new_page(viewport)
        login(page, "operator1")
        page.goto("/sms-outbox/")
        cell = page.get_by_test_id("sms-phone").first
        expect(cell).to_have_text("139 0008 3352")
        for header in page.locator("th").all():  # no header squeezed into one character per line
            box = header.bounding_box()
            assert box is not None and box["height"] < 40, (header.inner_text(), box)
        screenshot(page, "sms-outbox")


def test_api_docs_load_without_a_csp_violation(city: Any, new_page: Any) -> None:
    page = new_page()
    login(page, "operator1")
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.goto("/api/docs/")
    expect(page.locator("#swagger-ui .information-container")).to_be_visible(timeout=20_000)
    assert violations == [], violations
    screenshot(page, "api-docs")
    page.set_viewport_size(PHONE)
    screenshot(page, "api-docs")


def test_phone_numbers_on_staff_pages_are_grouped(city: Any, new_page: Any) -> None:
    ticket = _in_rating("公司拖欠工资两个月，希望尽快解决", phone="13900083352")
    page = new_page()
    login(page, ticket.rating_callbacks.get().operator.username)
    expect(page.locator("#panel-rating-callbacks")).to_contain_text("139 0008 3352")
    assert "+8613900083352" not in page.content()

