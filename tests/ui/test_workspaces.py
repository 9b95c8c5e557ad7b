"""The four workspaces in a real browser: create → dispatch → sign → reply → board, plus scoping and deadlines."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.ui.conftest import DESKTOP, PHONE, login, screenshot
from tickets.core.models import Assignment, Ticket
from tickets.feedback.services.rating import rating_link
from tickets.metrics.models import MetricsConfig
from tickets.org.models import UNIT_GROUPS
from tickets.sla.models import CityProfile

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WAGE_TEXT = "公司拖欠我三个月工资，老板一直不发，请求劳动监察帮助追讨"


def _keep_for_dispatcher() -> None:
    """No automatic dispatch: the ticket waits in the queue with its suggestions."""
    CityProfile.objects.update(auto_dispatch_threshold=1.01)


def test_ticket_loop_console_to_unit_to_board(city: Any, demo_model: Any, new_page: Any) -> None:
    _keep_for_dispatcher()
    operator = new_page()
    login(operator, "operator1")
    expect(operator).to_have_url(re.compile(r"/console/$"))
    expect(operator.get_by_test_id("whoami")).to_contain_text("话务员")

    # The whole new-ticket form by keyboard: accesskey-free Tab order from the first field.
    operator.get_by_label("诉求类型").focus()
    operator.keyboard.press("Tab")  # → 紧急程度
    operator.keyboard.press("Tab")  # → 诉求内容
    operator.keyboard.type(WAGE_TEXT)
    suggestions = operator.get_by_test_id("suggestions")
    expect(suggestions).to_contain_text("%")  # the classifier's guesses with confidence, while typing
    operator.keyboard.press("Tab")
    operator.keyboard.type("13812341234")
    operator.keyboard.press("Tab")
    operator.keyboard.type("张先生")
    operator.keyboard.press("Tab")
    operator.keyboard.type("东湖区新华街道幸福路1号")
    for _ in range(3):  # 保密, 匿名, 受理
        operator.keyboard.press("Tab")
    expect(operator.get_by_role("button", name="受理（Enter）")).to_be_focused()
    with operator.expect_navigation():
        operator.keyboard.press("Enter")

    ticket = Ticket.objects.get(citizen_phone="+8613812341234")
    assert "三个月工资" in ticket.text and ticket.citizen_name == "张先生"
    expect(operator.get_by_role("status")).to_contain_text(ticket.number)
    row = operator.locator(f"#queue-{ticket.pk}")
    expect(row).to_be_visible()
    expect(operator.get_by_test_id("live-list")).to_contain_text(ticket.number)
    screenshot(operator, "console")
    operator.set_viewport_size(PHONE)
    screenshot(operator, "console")
    operator.set_viewport_size(DESKTOP)

    # One click on the top suggestion: routing catalogue → lead unit → 派单.
    row.get_by_role("button").first.click()
    operator.wait_for_load_state("networkidle")
    expect(operator.get_by_role("status")).to_contain_text("已派单")
    ticket.refresh_from_db()
    assert ticket.state == "in_progress" and ticket.lead_unit is not None
    expect(operator.locator(f"#queue-{ticket.pk}")).to_have_count(0)

    # The clock moves past the deadlines (moved in the DB; 待签收 shows the sign deadline): the row is red.
    past = timezone.now() - timedelta(hours=2)
    Assignment.objects.filter(ticket=ticket).update(sign_due_at=past, reply_due_at=past)
    Ticket.objects.filter(pk=ticket.pk).update(due_at=past)

    unit = new_page()
    login(unit, f"{ticket.lead_unit.code}_staff")
    expect(unit).to_have_url(re.compile(r"/unit/$"))
    due = unit.get_by_test_id(f"due-{ticket.number}")
    expect(due).to_have_class(re.compile(r"\bdue-red\b"))
    expect(due).to_contain_text("已超期")
    gist = unit.get_by_test_id(f"gist-{ticket.number}")
    expect(gist).to_be_hidden()  # the 内容 column has it on a desktop
    content = unit.get_by_test_id(f"inbox-row-{ticket.number}").locator("td.text-cell")
    box = content.bounding_box()  # three lists across squeezed it to 3–5 characters a line
    assert box is not None and box["width"] >= 240, box
    screenshot(unit, "unit")
    unit.set_viewport_size(PHONE)
    # On a phone the 内容 column gives way and the gist stands under the number: a street clerk
    # sees what each ticket is about before opening it.
    expect(gist).to_be_visible()
    expect(gist).to_contain_text(ticket.text[:10])
    screenshot(unit, "unit")
    unit.set_viewport_size(DESKTOP)

    unit.get_by_role("link", name=ticket.number).click()
    expect(unit.get_by_test_id("phone-masked")).to_have_text("138 **** 1234")
    unit.get_by_role("button", name="签收").click()
    expect(unit.get_by_role("status")).to_contain_text("已签收")
    unit.get_by_label("办理结果（办复）").fill("已责成企业于本周内足额支付拖欠工资。")
    unit.get_by_role("button", name="提交办复").click()
    expect(unit.get_by_role("status")).to_contain_text("已办复")
    expect(unit.get_by_test_id("history")).to_contain_text("办复 → 已办复")
    screenshot(unit, "unit-ticket")
    ticket.refresh_from_db()
    assert ticket.state == "replied"

    supervisor = new_page()
    login(supervisor, "supervisor1")
    expect(supervisor).to_have_url(re.compile(r"/board/$"))
    expect(supervisor.get_by_test_id("board-overdue")).to_contain_text(ticket.number)
    screenshot(supervisor, "board")
    supervisor.set_viewport_size(PHONE)
    screenshot(supervisor, "board")
    supervisor.set_viewport_size(DESKTOP)

    # 挂牌督办 from the board: the ticket is flagged and shows up among the problem tickets.
    form = supervisor.get_by_test_id("board-overdue").get_by_test_id(f"supervise-{ticket.number}")
    form.get_by_label(re.compile("督办意见")).fill("超期未办结，挂牌督办")
    form.get_by_role("button", name="挂牌督办").click()
    expect(supervisor.get_by_role("status")).to_contain_text("已挂牌督办")
    expect(supervisor.get_by_test_id("board-problem")).to_contain_text(ticket.number)
    ticket.refresh_from_db()
    assert ticket.is_flagged

    # 审核办复 on the console: accepted, the citizen is asked for a rating.
    supervisor.goto("/console/")
    review = supervisor.locator(f"#review-{ticket.pk}")
    expect(review).to_contain_text("已责成企业")
    review.get_by_role("button", name="通过").click()
    expect(supervisor.get_by_role("status")).to_contain_text("办复已通过")
    ticket.refresh_from_db()
    assert ticket.state == "rating"

    # The scorecard before the rating; the drill-down shows the reply came after the deadline.
    unit_code, group = ticket.lead_unit.code, UNIT_GROUPS[ticket.lead_unit.kind]
    supervisor.goto(f"/board/scorecards/?group={group}")
    expect(supervisor.locator("#scorecards")).to_have_attribute("data-loaded", "1")
    expect(supervisor.get_by_test_id(f"satisfaction-{unit_code}")).to_have_text("无数据")
    supervisor.get_by_test_id("units-table").get_by_role("link", name=ticket.lead_unit.name).click()
    late = supervisor.get_by_test_id(f"ontime-{ticket.number}")
    expect(late).to_have_text("超期办复")
    expect(late).to_have_class(re.compile(r"\bdue-red\b"))

    # The citizen rates from the SMS link on a phone; the ticket closes.
    citizen = new_page(PHONE)
    citizen.goto(urlparse(rating_link(ticket)).path)
    citizen.get_by_role("radio", name="基本满意").check()
    citizen.get_by_role("radio", name="已解决").check()
    citizen.get_by_role("radio", name="已联系").check()
    citizen.get_by_role("button", name="提交评价").click()
    expect(citizen.get_by_role("status")).to_contain_text("评价已记录")
    ticket.refresh_from_db()
    assert ticket.state == "closed"

    # The scorecard changed: the unit's satisfaction now counts a 基本满意 at its configured weight.
    weight = MetricsConfig.objects.order_by("-id").first() or MetricsConfig()
    supervisor.goto(f"/board/scorecards/?group={group}")
    expect(supervisor.locator("#scorecards")).to_have_attribute("data-loaded", "1")
    expect(supervisor.get_by_test_id(f"satisfaction-{unit_code}")).to_have_text(f"{weight.basic_weight * 100:.1f}%")
    expect(supervisor.get_by_test_id("red-list")).to_contain_text(ticket.lead_unit.name)


def test_unit_cannot_open_another_units_ticket(city: Any, new_page: Any) -> None:
    from tickets.core.actors import Actor
    from tickets.intake.services import intake
    from tickets.org.models import User

    ticket = intake.ticket_create(
        actor=Actor.of(User.objects.get(username="operator1")), channel="phone", text="小区路灯坏了一个月没人修"
    )
    theirs = new_page()
    login(theirs, "rsj_staff")
    response = theirs.goto(f"/unit/tickets/{ticket.pk}/")
    assert response is not None and response.status == 404
    expect(theirs.locator("body")).not_to_contain_text("路灯")


def test_reveal_phone_is_recorded(city: Any, new_page: Any) -> None:
    from tickets.core.actors import Actor
    from tickets.core.models import AccessAction, TicketAccessLog
    from tickets.core.services import workflow
    from tickets.intake.services import intake
    from tickets.org.models import Unit, User

    operator = User.objects.get(username="operator1")
    ticket = intake.ticket_create(
        actor=Actor.of(operator), channel="phone", text="单位不给缴社保", citizen_phone="13912345678", auto_route=False
    )
    workflow.ticket_dispatch(ticket=ticket, actor=Actor.of(operator), lead_unit=Unit.objects.get(code="rsj"))
    page = new_page(PHONE)
    login(page, "rsj_staff")
    page.goto(f"/unit/tickets/{ticket.pk}/")
    page.get_by_role("button", name="查看完整号码（将被记录）").click()
    expect(page.get_by_test_id("phone-full")).to_have_text("139 1234 5678")
    assert TicketAccessLog.objects.filter(ticket=ticket, action=AccessAction.REVEAL_PHONE).count() == 1


def test_login_and_citizen_pages_at_both_widths(city: Any, new_page: Any) -> None:
    for viewport in (DESKTOP, PHONE):
        page = new_page(viewport)
        page.goto("/")
        page.get_by_role("link", name=re.compile("市民服务")).click()
        expect(page).to_have_url(re.compile(r"/citizen/$"))
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]  # no sideways scroll
        screenshot(page, "citizen")
        page.get_by_role("link", name="我要反映诉求").click()  # the phone-verification form comes first
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        for control in page.locator("input:not([type=hidden]), textarea, select").all():
            assert control.evaluate("el => !!(el.labels && el.labels.length) || !!el.getAttribute('aria-label')")
        screenshot(page, "citizen-form")
        page.goto("/login/")
        page.get_by_label("用户名").fill("operator1")
        page.get_by_label("密码").fill("wrong")
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("alert")).to_contain_text("用户名或密码不正确")
        assert page.locator("html").get_attribute("lang") == "zh-Hans"
        screenshot(page, "login")


def test_operator_completes_a_draft_and_sees_chinese_errors(city: Any, new_page: Any) -> None:
    from tickets.core.actors import Actor
    from tickets.intake.services import intake
    from tickets.org.models import User

    draft = intake.ticket_create(
        actor=Actor.of(User.objects.get(username="operator1")),
        channel="sms",
        text="路灯",
        citizen_phone="13700001111",
        draft=True,
    )
    page = new_page()
    login(page, "operator1")
    box = page.locator(f"#draft-{draft.pk}")
    box.locator("summary").click()
    box.get_by_label("姓名").fill("张女士")
    box.get_by_label("诉求内容").fill("")
    box.get_by_label("诉求内容").evaluate("el => el.removeAttribute('required')")
    box.get_by_role("button", name="补全并受理").click()
    expect(page.get_by_role("status")).to_contain_text("请填写诉求内容")  # the service's refusal, in Chinese
    box = page.locator(f"#draft-{draft.pk}")
    # Back open as typed, the field at fault marked and focused (it came back closed and reset).
    expect(box.get_by_label("姓名")).to_have_value("张女士")
    expect(box.get_by_label("诉求内容")).to_be_focused()
    expect(box.get_by_label("诉求内容")).to_have_attribute("aria-invalid", "true")
    box.get_by_label("诉求内容").fill("东湖区幸福路路灯坏了一个月，晚上很黑")
    box.get_by_role("button", name="补全并受理").click()
    expect(page.get_by_role("status")).to_contain_text("已补全受理")
    expect(page.locator(f"#draft-{draft.pk}")).to_have_count(0)
    draft.refresh_from_db()
    assert draft.state != "draft" and "路灯坏了" in draft.text


def _dispatched_to_rsj(text: str) -> Ticket:
    from tickets.core.actors import Actor
    from tickets.core.services import workflow
    from tickets.intake.services import intake
    from tickets.org.models import Unit, User

    operator = Actor.of(User.objects.get(username="operator1"))
    ticket = intake.ticket_create(
        actor=operator, channel="phone", text=text, citizen_phone="13912345678", auto_route=False
    )
    return workflow.ticket_dispatch(ticket=ticket, actor=operator, lead_unit=Unit.objects.get(code="rsj"))


def test_return_request_goes_to_the_console_and_back_to_the_queue(city: Any, new_page: Any) -> None:
    ticket = _dispatched_to_rsj("小区门口的下水道堵了好几天")
    unit = new_page(PHONE)
    login(unit, "rsj_staff")
    unit.goto(f"/unit/tickets/{ticket.pk}/")
    unit.get_by_text("申请退回", exact=True).first.click()  # opens the <details>
    unit.get_by_label("退回理由").fill("排水设施不属于人社部门职责")
    unit.get_by_label("法律法规或职责依据").fill("《城镇排水与污水处理条例》第五条")
    unit.get_by_role("button", name="申请退回").click()
    expect(unit.get_by_role("status")).to_contain_text("已申请退回")

    dispatcher = new_page()
    login(dispatcher, "dispatcher1")
    box = dispatcher.locator("#panel-requests")
    expect(box).to_contain_text("排水设施不属于人社部门职责")
    expect(box).to_contain_text("第五条")
    box.get_by_role("button", name="驳回").click()  # a rejection needs a reason: the service says so
    expect(dispatcher.get_by_role("status")).to_contain_text("驳回理由")
    dispatcher.locator("#panel-requests").get_by_role("button", name="同意退回").click()
    expect(dispatcher.get_by_role("status")).to_contain_text("已同意退回")
    expect(dispatcher.locator(f"#queue-{ticket.pk}")).to_be_visible()


def test_extension_beyond_the_cap_is_refused_in_chinese(city: Any, new_page: Any) -> None:
    ticket = _dispatched_to_rsj("申请失业保险金一直没有到账")
    unit = new_page()
    login(unit, "rsj_staff")
    unit.goto(f"/unit/tickets/{ticket.pk}/")
    unit.get_by_role("button", name="签收").click()
    expect(unit.get_by_role("status")).to_contain_text("已签收")
    unit.get_by_text("申请延期", exact=True).first.click()
    far = (timezone.localtime() + timedelta(days=365)).strftime("%Y-%m-%dT%H:%M")
    unit.get_by_label("延期至").fill(far)
    unit.get_by_label("延期理由").fill("需要跨部门核查")
    unit.get_by_role("button", name="申请延期").click()
    message = unit.get_by_role("status")
    expect(message).to_have_class(re.compile("messages"))
    expect(message.locator(".msg-error")).to_be_visible()
    assert re.search(r"[\u4e00-\u9fff]", message.inner_text())
    ticket.refresh_from_db()
    assert Assignment.objects.get(ticket=ticket).state == "signed"


def test_deadline_turns_amber_then_red_as_the_browser_clock_runs(city: Any, new_page: Any) -> None:
    ticket = _dispatched_to_rsj("医保报销材料被退回三次")
    soon = timezone.now() + timedelta(hours=3)
    Assignment.objects.filter(ticket=ticket).update(reply_due_at=soon)
    page = new_page()
    page.clock.install(time=timezone.now())  # the page's timers and Date follow this clock
    login(page, "rsj_staff")
    page.goto(f"/unit/tickets/{ticket.pk}/")  # the ticket page is not re-fetched; only the minute timer runs
    due = page.get_by_test_id("due")
    expect(due).to_have_class(re.compile(r"\bdue-amber\b"))  # computed by the server: due within 24 h
    page.clock.run_for(4 * 3600 * 1000)  # four hours later, the minute timer has recoloured it
    expect(due).to_have_class(re.compile(r"\bdue-red\b"))
