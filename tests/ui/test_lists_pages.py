"""工单查询 and 知识库管理 in a real browser (issue 16, "what a centre expects on day one").

Search from the header, scoped and masked by role; filters with "N of M" and a saved view; bulk
派单 and 并单 with per-ticket refusals in Chinese; the Excel export of the filtered rows (opened with
openpyxl, masked for a unit); the knowledge base's create / edit (versions) / approve a proposal.
"""

from __future__ import annotations

import re
from typing import Any

import openpyxl
import pytest
from playwright.sync_api import expect

from tests.ui.conftest import DESKTOP, PHONE, login, screenshot
from tickets.core.actors import Actor
from tickets.core.models import Kind, Ticket
from tickets.core.services import workflow
from tickets.intake.services import intake
from tickets.knowledge.models import KbArticle, KbProposal
from tickets.knowledge.services import articles
from tickets.org.models import SavedView, Unit, User

TABLET = {"width": 768, "height": 1024}

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _actor(username: str) -> Actor:
    return Actor.of(User.objects.get(username=username))


def _ticket(text: str, **fields: Any) -> Ticket:
    fields.setdefault("auto_route", False)
    return intake.ticket_create(actor=_actor("operator1"), channel="phone", text=text, **fields)


def _dispatch(ticket: Ticket, unit_code: str) -> Ticket:
    return workflow.ticket_dispatch(
        ticket=ticket, actor=_actor("operator1"), lead_unit=Unit.objects.get(code=unit_code)
    )


def _search(page: Any, term: str) -> None:
    box = page.get_by_role("searchbox", name="检索工单")
    box.fill(term)
    box.press("Enter")
    page.wait_for_load_state("networkidle")


def test_search_from_the_header_is_scoped_and_masked_by_role(city: Any, new_page: Any) -> None:
    mine = _dispatch(
        _ticket("光明小区停水三天了，请尽快恢复供水", citizen_phone="13812341234", citizen_address="新华路8号"),
        "rsj",
    )
    other = _dispatch(_ticket("幸福小区停水两天，无人处理", citizen_phone="13900001111"), "zjj")
    hidden = _dispatch(_ticket("光明小区停水，我不想透露姓名", citizen_phone="13700002222", confidential=True), "rsj")

    operator = new_page()
    login(operator, "operator1")
    _search(operator, "小区停水")  # words: the centre finds every ticket, numbers in full
    table = operator.get_by_test_id("ticket-list")
    for t in (mine, other, hidden):
        expect(table).to_contain_text(t.number)
    expect(table).to_contain_text("138 1234 1234")  # written as people read it aloud
    expect(operator.get_by_test_id("list-count")).to_contain_text("共 3 件")
    _search(operator, "138 1234 1234")  # a caller's number, as people say it
    expect(operator.get_by_test_id("list-count")).to_contain_text("共 1 件")
    expect(table).to_contain_text(mine.number)
    _search(operator, "新华路8号")  # the address
    expect(table).to_contain_text(mine.number)
    expect(table).not_to_contain_text(other.number)
    operator.get_by_role("link", name=mine.number).focus()  # a ticket is one click (or Enter) away
    expect(operator.get_by_role("link", name=mine.number)).to_have_attribute("href", re.compile(rf"/{mine.pk}/$"))
    screenshot(operator, "ticket-search")

    clerk = new_page()
    login(clerk, "rsj_staff")
    _search(clerk, "小区停水")  # a unit: its own tickets only, never the 保密 one's text
    table = clerk.get_by_test_id("ticket-list")
    expect(table).to_contain_text(mine.number)
    expect(table).to_contain_text("138 **** 1234")
    expect(table).not_to_contain_text("1234 1234")
    expect(table).not_to_contain_text(other.number)
    expect(table).not_to_contain_text(hidden.number)
    _search(clerk, "13812341234")  # digits would let a unit guess a masked number
    expect(clerk.get_by_test_id("list-error")).to_contain_text("不能包含其他数字")
    _search(clerk, mine.number)  # a whole ticket number is fine
    expect(clerk.get_by_test_id("ticket-list")).to_contain_text(mine.number)
    _search(clerk, other.number)  # another unit's ticket does not exist for this reader
    expect(clerk.get_by_test_id("no-results")).to_be_visible()

    phone = new_page(PHONE)
    login(phone, "operator1")
    phone.goto("/tickets/?q=小区停水")
    expect(phone.get_by_test_id("ticket-list")).to_contain_text(mine.number)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 392  # no sideways scrolling at 390 px
    screenshot(phone, "ticket-search")


def test_filters_count_sort_and_a_saved_view(city: Any, new_page: Any) -> None:
    urgent = [_ticket(f"紧急：燃气管道泄漏第{i}处，请立即处理", urgency="urgent") for i in range(3)]
    _ticket("咨询社保卡办理地点", kind=Kind.CONSULT)
    _dispatch(urgent[0], "rsj")

    page = new_page()
    login(page, "operator1")
    page.goto("/tickets/")
    expect(page.get_by_test_id("list-count")).to_contain_text("共 4 件")
    states = page.get_by_label("状态")  # each state with its count
    expect(states.locator("option[value=in_progress]")).to_have_text("办理中（1）")
    expect(states.locator("option[value=closed]")).to_have_text("已办结（0）")
    page.get_by_label("紧急程度").select_option(label="紧急")
    page.get_by_label("关键词").press("Enter")  # the form submits from the keyboard
    expect(page.get_by_test_id("list-count")).to_contain_text("第 1–3 件，共 3 件")
    page.get_by_label("状态").select_option(value="in_progress")
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_test_id("list-count")).to_contain_text("共 1 件")
    expect(page.get_by_test_id("ticket-list")).to_contain_text(urgent[0].number)

    page.get_by_label("状态").select_option(value="")
    page.get_by_label("排序").select_option(value="old")
    page.get_by_role("button", name="查询").click()
    rows = page.get_by_test_id("ticket-list").locator("tbody tr")
    expect(rows.first).to_contain_text(urgent[0].number)  # oldest first

    page.get_by_placeholder(re.compile("为当前条件起个名字")).fill("紧急工单")
    page.get_by_role("button", name="保存当前筛选").click()
    expect(page.get_by_role("status")).to_contain_text("已保存常用筛选“紧急工单”")
    page.goto("/tickets/")
    expect(page.get_by_test_id("list-count")).to_contain_text("共 4 件")
    page.get_by_test_id("saved-views").get_by_role("link", name="紧急工单").click()
    expect(page.get_by_test_id("list-count")).to_contain_text("共 3 件")
    expect(page.get_by_label("紧急程度")).to_have_value("urgent")
    screenshot(page, "ticket-list-filtered")

    other = new_page()  # saved views are per user
    login(other, "dispatcher1")
    other.goto("/tickets/")
    expect(other.get_by_text("还没有保存的筛选")).to_be_visible()

    page.get_by_role("button", name="删除常用筛选“紧急工单”").click()
    expect(page.get_by_role("status")).to_contain_text("已删除常用筛选")
    assert not SavedView.objects.exists()

    narrow = new_page(PHONE)
    login(narrow, "operator1")
    narrow.goto("/tickets/?urgency=urgent")
    expect(narrow.get_by_test_id("list-count")).to_contain_text("共 3 件")
    screenshot(narrow, "ticket-list-filtered")

    # A tablet held upright: seven columns do not fit, so each ticket is a card there as on a phone,
    # not a table whose 诉求 is two characters wide and whose 办结时限 runs off the panel.
    tablet = new_page(TABLET)
    login(tablet, "operator1")
    tablet.goto("/tickets/?urgency=urgent")
    listing = tablet.get_by_test_id("ticket-list")
    expect(listing).to_contain_text(urgent[1].number)
    cell = listing.locator("tbody tr").first.locator("td[data-label]").first
    assert cell.evaluate("el => getComputedStyle(el).display") == "block"  # one field under another
    panel = listing.locator("xpath=ancestor::section[1]")
    assert panel.evaluate("el => el.scrollWidth - el.clientWidth") <= 1
    screenshot(tablet, "ticket-list-filtered")


def test_bulk_dispatch_and_merge_report_each_ticket(city: Any, new_page: Any) -> None:
    same = [_ticket(f"人民路{i}号路灯不亮，晚上很黑") for i in range(3)]
    done = _dispatch(_ticket("人民路9号路灯不亮，已经派过"), "zjj")

    page = new_page()
    login(page, "operator1")
    page.goto("/tickets/?q=路灯不亮&sort=old")
    for t in (*same[:2], done):
        page.get_by_label(f"选择工单 {t.number}").check()
    page.get_by_label("派至承办单位").select_option(label="市住建局")
    page.get_by_role("button", name="批量派单").click()
    status = page.get_by_role("status")
    expect(status).to_contain_text(f"已派单 2 件：{same[0].number}、{same[1].number}")
    expect(status).to_contain_text(f"工单 {done.number}：")  # refused, in Chinese, the others still went
    for t in same[:2]:
        t.refresh_from_db()
        assert t.state == "in_progress" and t.lead_unit is not None and t.lead_unit.code == "zjj"

    page.get_by_label(f"选择工单 {same[2].number}").check()
    page.get_by_label("并单的主工单号（空则为勾选中最早的一件）").fill(same[0].number)
    page.get_by_role("button", name="批量并单").click()
    expect(page.get_by_role("status")).to_contain_text(f"已并单 1 件：{same[2].number}")
    same[2].refresh_from_db()
    assert same[2].state == "merged" and same[2].merged_into_id == same[0].pk


def test_excel_export_has_the_filtered_rows_masked_by_role(city: Any, new_page: Any, tmp_path: Any) -> None:
    water = [_dispatch(_ticket(f"东湖小区{i}栋停水", citizen_phone=f"1381234{i:04d}"), "rsj") for i in range(3)]
    _dispatch(_ticket("西山公园噪音扰民", citizen_phone="13900009999"), "rsj")

    def download(username: str) -> list[tuple[Any, ...]]:
        page = new_page()
        login(page, username)
        page.goto("/tickets/?q=东湖小区")
        with page.expect_download() as info:
            page.get_by_test_id("export-xlsx").click()
        path = tmp_path / f"{username}.xlsx"
        info.value.save_as(path)
        sheet = openpyxl.load_workbook(path).active
        return list(sheet.iter_rows(values_only=True))

    rows = download("operator1")
    assert rows[0][0] == "工单号"
    assert sorted(r[0] for r in rows[1:]) == sorted(t.number for t in water)  # the filtered rows only
    assert "+8613812340001" in {r[7] for r in rows[1:]}  # the centre: in full
    masked = download("rsj_staff")
    assert sorted(r[0] for r in masked[1:]) == sorted(t.number for t in water)
    assert {r[7] for r in masked[1:]} == {"138****0000", "138****0001", "138****0002"}


def test_kb_create_edit_versions_and_approve_a_proposal(city: Any, new_page: Any) -> None:
    consult = _dispatch(_ticket("咨询新生儿医保怎么办理", kind=Kind.CONSULT), "rsj")
    lead = consult.assignments.get(role="lead")
    workflow.assignment_sign(assignment=lead, actor=_actor("rsj_staff"))
    workflow.assignment_reply(assignment=lead, actor=_actor("rsj_staff"), text="携带出生医学证明到社保窗口办理")
    articles.kb_proposal_create(
        actor=_actor("rsj_staff"),
        ticket=consult,
        question="新生儿医保如何办理？",
        answer="携带出生医学证明和户口簿到就近社保窗口办理，当日即可参保。",
    )

    page = new_page()
    login(page, "dispatcher1")
    page.goto("/kb/")
    page.get_by_role("link", name="新建知识条目").click()
    page.get_by_label("问题").fill("居住证到期如何续签？")
    page.get_by_label("答复口径").fill("到期前30日内携带身份证到居住地派出所办理签注。")
    page.get_by_label("责任单位").select_option(label="市人社局")
    page.get_by_label("失效日期（空为长期有效）").fill("2027-01-01")
    page.get_by_role("button", name="新建").click()
    expect(page.get_by_role("status")).to_contain_text("已新建知识条目（第 1 版）")
    page.get_by_label("答复口径").fill("到期前30日内携带身份证、居住证到居住地派出所办理签注，可网上预约。")
    page.get_by_label("修改说明").fill("增加网上预约")
    page.get_by_role("button", name="保存为新版本").click()
    expect(page.get_by_role("status")).to_contain_text("已保存为第 2 版")
    expect(page.get_by_test_id("versions")).to_contain_text("第 1 版")
    expect(page.get_by_test_id("versions")).to_contain_text("增加网上预约")
    article = KbArticle.objects.get(question="居住证到期如何续签？")
    assert article.version == 2 and article.owning_unit is not None and article.owning_unit.code == "rsj"
    screenshot(page, "kb-article")

    page.goto("/kb/")
    expect(page.get_by_test_id("expiring")).to_contain_text("居住证到期如何续签？")  # ends within 30 days
    page.get_by_label("检索问题、关键词或答复口径").fill("居住证")
    page.get_by_label("检索问题、关键词或答复口径").press("Enter")
    expect(page.get_by_test_id("kb-articles")).to_contain_text("v2")
    page.goto("/kb/")
    proposal = page.get_by_test_id("proposals").locator("li").first
    expect(proposal).to_contain_text("新生儿医保如何办理？")
    proposal.get_by_role("button", name="不采纳").click()
    expect(page.get_by_role("status")).to_contain_text("请填写不采纳的理由")
    screenshot(page, "kb")
    page.get_by_test_id("proposals").get_by_role("button", name="采纳", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("已采纳该建议")
    assert KbProposal.objects.get().state == "approved"
    assert KbArticle.objects.filter(question="新生儿医保如何办理？", owning_unit__code="rsj").exists()

    narrow = new_page(PHONE)
    login(narrow, "supervisor1")
    narrow.goto("/kb/")
    expect(narrow.get_by_test_id("kb-articles")).to_contain_text("居住证到期如何续签？")
    screenshot(narrow, "kb")
    narrow.goto(f"/kb/articles/{article.pk}/")
    screenshot(narrow, "kb-article")


def test_desktop_width_is_used(new_page: Any) -> None:
    assert DESKTOP["width"] == 1366
