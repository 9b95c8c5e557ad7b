"""Browser tests of the console's helpers while typing, 回访, the board's review, exports and jobs."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.ui.conftest import DESKTOP, PHONE, login, screenshot
from tickets.core.actors import Actor
from tickets.core.models import Ticket
from tickets.core.services import workflow
from tickets.feedback.models import Rating, RatingCallback
from tickets.feedback.services import rating
from tickets.intake.services import intake
from tickets.jobs.models import BackgroundJob
from tickets.knowledge.models import KbArticle
from tickets.knowledge.services import articles
from tickets.org.models import Unit, User
from tickets.sla.models import CalendarYear

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def _actor(username: str) -> Actor:
    return Actor.of(User.objects.get(username=username))


def _in_rating(text: str, phone: str = "13912345678") -> Ticket:
    """A phone ticket dispatched to 市人社局, replied and accepted: awaiting its rating (回访 scheduled)."""
    ticket = intake.ticket_create(
        actor=_actor("operator1"), channel="phone", text=text, citizen_phone=phone, auto_route=False
    )
    workflow.ticket_dispatch(ticket=ticket, actor=_actor("operator1"), lead_unit=Unit.objects.get(code="rsj"))
    lead = ticket.assignments.get(role="lead")
    workflow.assignment_sign(assignment=lead, actor=_actor("rsj_staff"))
    workflow.assignment_reply(assignment=lead, actor=_actor("rsj_staff"), text="已协调企业处理")
    workflow.ticket_review_reply(ticket=ticket, actor=_actor("dispatcher1"), accept=True)
    ticket.refresh_from_db()
    assert ticket.state == "rating"
    return ticket



def test_console_shows_duplicates_and_kb_answers_and_answers_directly(city: Any, new_page: Any) -> None:
    articles.kb_index_invalidate()
    article = articles.kb_article_create(
        actor=_actor("supervisor1"),
        question="住房公积金提取需要哪些材料？",
        answer="携带身份证、银行卡和购房合同到公积金中心任一网点办理，也可在公积金App上提交。",
        keywords="公积金 提取 材料 购房",
    )
    earlier = intake.ticket_create(
        actor=_actor("operator1"),
        channel="phone",
        text="我想问一下住房公积金提取需要带哪些材料",
        citizen_phone="13700007777",
        auto_route=False,
    )
    page = new_page()
    login(page, "operator1")
    page.get_by_label("来电号码").fill("13700007777")
    page.get_by_label("诉求内容").fill("请问住房公积金提取需要什么材料")
    dups = page.get_by_test_id("duplicates")
    expect(dups).to_contain_text(earlier.number)
    expect(dups).to_contain_text("同一来电人")  # the reasons are shown, with a score
    expect(dups).to_contain_text("得分")
    hits = page.get_by_test_id("kb-hits")
    expect(hits).to_contain_text("住房公积金提取需要哪些材料")
    expect(hits).to_contain_text("匹配度")
    screenshot(page, "console-assist")
    page.set_viewport_size(PHONE)
    screenshot(page, "console-assist")
    page.set_viewport_size(DESKTOP)

    hits.get_by_role("button", name=re.compile("以知识库“住房公积金提取需要哪些材料？”直接答复")).click()
    confirm = page.get_by_test_id("kb-confirm")  # a deliberate act: the article is shown first
    expect(confirm).to_contain_text("公积金中心任一网点")
    confirm.get_by_role("button", name="确认答复并办结").click()
    expect(page.get_by_role("status")).to_contain_text("已按知识库直接答复并办结")
    ticket = Ticket.objects.exclude(pk=earlier.pk).get(citizen_phone="+8613700007777")
    assert ticket.state == "answered_directly" and "公积金中心" in ticket.outcome_reason
    assert ticket.events.filter(action="answer_directly", data__article=article.pk).exists()
    assert KbArticle.objects.get(pk=article.pk).usage_count == 1
    articles.kb_index_invalidate()


def test_operator_completes_a_callback_and_the_rating_is_recorded(city: Any, new_page: Any) -> None:
    ticket = _in_rating("公司拖欠工资两个月，希望尽快解决")
    callback = RatingCallback.objects.get(ticket=ticket)
    page = new_page(PHONE)
    login(page, callback.operator.username)
    box = page.locator(f"#callback-{callback.pk}")
    box.locator("summary").click()
    box.get_by_role("radio", name="已接通").check()
    box.get_by_role("radio", name="已联系").check()
    box.get_by_role("radio", name="未解决").check()
    box.get_by_role("radio", name="不满意").check()  # without a cause: the service asks for one
    box.get_by_label("市民意见 / 备注").fill("工资还没到账")
    box.get_by_role("button", name="完成回访").click()
    expect(page.get_by_role("status")).to_contain_text(f"工单 {ticket.number}：不满意时请选择原因")
    # The record comes back as entered, open, the cause to choose in focus: nothing to type again.
    box = page.locator(f"#callback-{callback.pk}")
    expect(box).to_have_attribute("open", "")
    for answer in ("已接通", "已联系", "未解决", "不满意"):
        expect(box.get_by_role("radio", name=answer)).to_be_checked()
    expect(box.get_by_label("市民意见 / 备注")).to_have_value("工资还没到账")
    expect(box.get_by_role("radio", name="承办单位主观原因")).to_be_focused()
    page.keyboard.press("Space")  # the operator chooses the cause with the keyboard
    box.get_by_role("button", name="完成回访").click()
    expect(page.get_by_role("status")).to_contain_text("评价已入账")
    expect(page.locator(f"#callback-{callback.pk}")).to_have_count(0)
    rated = Rating.objects.get(ticket=ticket)
    assert (rated.satisfaction, rated.solved, rated.cause, rated.channel) == (
        "dissatisfied",
        False,
        "subjective",
        "phone",
    )


def test_supervisor_reviews_a_dissatisfied_rating_and_reopens(city: Any, new_page: Any) -> None:
    ticket = _in_rating("单位不给缴社保，投诉了也没用", phone="13911112222")
    rating.rating_record(
        ticket=ticket,
        actor=Actor.citizen(),
        channel="web",
        satisfaction="dissatisfied",
        solved=False,
        contacted=False,
        comment="根本没人联系我",
        cause="subjective",
    )
    page = new_page()
    login(page, "supervisor1")
    page.get_by_role("link", name="不满意审核").click()
    box = page.locator(".panel", has_text=ticket.number)
    expect(box).to_contain_text("根本没人联系我")
    screenshot(page, "board-ratings")
    box.get_by_label("处理理由（必填）").fill("单位未联系市民，重办")
    box.get_by_role("button", name="重办").click()
    expect(page.get_by_role("status")).to_contain_text(f"工单 {ticket.number} 已决定重办")
    expect(page.locator(".panel", has_text=ticket.number)).to_have_count(0)
    page.set_viewport_size(PHONE)
    screenshot(page, "board-ratings")
    assert Rating.objects.get(ticket=ticket).review == "reopened"
    ticket.refresh_from_db()
    assert ticket.state == "in_progress"


def test_exports_show_progress_and_refusals(city: Any, new_page: Any) -> None:
    for i in range(3):
        intake.ticket_create(
            actor=_actor("operator1"), channel="phone", text=f"第{i}号路灯不亮了，晚上很黑", auto_route=False
        )
    page = new_page()
    login(page, "supervisor1")
    csv_box = page.locator(".export", has_text="导出未办结工单（CSV）")
    # Keyboard only: Tab reaches the button, the focus ring is visible, Enter starts the export.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "导出未办结工单（CSV）":
            break
    assert page.evaluate("document.activeElement.textContent") == "导出未办结工单（CSV）"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    expect(csv_box.get_by_test_id("export-msg")).to_contain_text("导出完成：3 行")
    expect(csv_box.locator("progress")).to_have_attribute("value", "100")
    assert "路灯" in Path(download.value.path()).read_text(encoding="utf-8-sig")

    xlsx_box = page.locator(".export", has_text="导出全部工单（Excel）")
    with page.expect_download() as xlsx:
        xlsx_box.get_by_role("button").click()
    expect(xlsx_box.get_by_test_id("export-msg")).to_contain_text("导出完成：3 行")
    assert xlsx.value.suggested_filename.endswith(".xlsx")

    # A refused export (a filter the API rejects) says why, in Chinese, and offers no file.
    csv_box.evaluate("el => el.setAttribute('data-export-url', '/api/exports/tickets.csv?state=bogus')")
    csv_box.get_by_role("button").click()
    expect(csv_box.get_by_test_id("export-msg")).to_contain_text("导出被拒绝（HTTP 400）")
    expect(csv_box.get_by_test_id("export-msg")).to_contain_text("筛选条件不正确")
    screenshot(page, "board-export")


def test_jobs_page_imports_a_calendar_and_retrains_with_progress(city: Any, new_page: Any, eager_celery: None) -> None:
    CalendarYear.objects.filter(year=2027).delete()
    page = new_page()
    login(page, "supervisor1")
    page.get_by_role("link", name="后台任务").click()

    page.get_by_label("年度节假日安排文件").set_input_files(str(ROOT / "README.md"))  # wrong type: refused
    page.get_by_role("button", name="开始导入").click()
    expect(page.get_by_role("status")).to_contain_text("请上传 .toml 或 .json")
    assert not BackgroundJob.objects.exists()

    page.get_by_label("年度节假日安排文件").set_input_files(
        str(ROOT / "tickets" / "sla" / "data" / "cn-2027.example.toml")
    )
    page.get_by_role("button", name="开始导入").click()
    expect(page.get_by_role("status")).to_contain_text("已提交“导入工作日历”")
    job = BackgroundJob.objects.get(kind="calendar_import")
    row = page.locator(f"#job-{job.pk}")
    expect(row.locator("[data-job-message]")).to_contain_text("2027 年工作日历已导入")
    expect(row.locator("progress")).to_have_attribute("value", "100")
    expect(row.locator("[data-job-state]")).to_have_text("已完成")
    assert CalendarYear.objects.filter(year=2027).exists()

    page.get_by_role("button", name="开始训练").click()
    retrain = BackgroundJob.objects.get(kind="retrain")
    row = page.locator(f"#job-{retrain.pk}")
    expect(row.locator("[data-job-message]")).to_contain_text("训练数据不足")  # few confirmed tickets here
    row.locator("summary").click()
    expect(row.locator("[data-job-steps]")).to_contain_text("已读取训练数据")
    screenshot(page, "board-jobs")
    page.set_viewport_size(PHONE)
    screenshot(page, "board-jobs")


def test_scorecard_drill_down_and_phone_width(city: Any, new_page: Any) -> None:
    ticket = _in_rating("社保卡补办一直没有进度", phone="13800001111")
    late = intake.ticket_create(
        actor=_actor("operator1"), channel="phone", text="工伤认定材料交了两个月没有回音", auto_route=False
    )
    workflow.ticket_dispatch(ticket=late, actor=_actor("operator1"), lead_unit=Unit.objects.get(code="rsj"))
    late.assignments.filter(role="lead").update(reply_due_at=timezone.now() - timedelta(hours=3))
    assisted = intake.ticket_create(
        actor=_actor("operator1"), channel="phone", text="企业欠薪同时涉及工伤保险", auto_route=False
    )
    workflow.ticket_dispatch(
        ticket=assisted,
        actor=_actor("operator1"),
        lead_unit=Unit.objects.get(code="zjj"),
        assisting_units=[Unit.objects.get(code="rsj")],
    )
    page = new_page(PHONE)
    login(page, "supervisor1")
    page.goto("/board/scorecards/")
    expect(page.locator("#scorecards")).to_have_attribute("data-loaded", "1")
    expect(page.locator("#chart-trend svg")).to_have_count(1)  # ECharts drew the trend
    expect(page.locator("#chart-ontime svg")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    screenshot(page, "board-scorecards")
    page.get_by_role("link", name="市人社局").click()
    # The scorecard's 派单 counts every assignment, 协办 too: the drill-down lists the same ones.
    expect(page.get_by_test_id("unit-dispatch-count")).to_have_text("本月派单 3 件（主办 2，协办及下派 1）")
    expect(page.locator(f"#ut-{assisted.number}-{assisted.assignments.get(unit__code='rsj').pk}")).to_contain_text("协办")
    expect(page.get_by_test_id(f"sign-{ticket.number}")).to_have_text("按时签收")
    expect(page.get_by_test_id(f"ontime-{ticket.number}")).to_have_text("按时办复")
    verdict = page.get_by_test_id(f"ontime-{late.number}")
    expect(verdict).to_have_text("已超期未办复")
    # The longest verdict fits the phone's panel: it used to run past the edge, cut in half.
    panel = verdict.locator("xpath=ancestor::section[1]")
    assert panel.evaluate("el => el.scrollWidth - el.clientWidth") <= 1
    wrap = verdict.locator("xpath=ancestor::div[contains(@class, 'table-wrap')][1]")
    assert wrap.evaluate("el => el.scrollWidth - el.clientWidth") <= 1  # the verdict in view, no scrolling
    screenshot(page, "board-unit-tickets")
