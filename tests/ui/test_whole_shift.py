"""Issue 16, Must show: one whole shift in a real browser, on the real ASGI server (HTTP + WebSocket).

In order, asserting what each person sees:

1. an operator registers 20 calls by keyboard only (Tab, typing, Enter); a repeat call about the same
   manhole at the same crossing is suggested as a duplicate and merged on the ticket page; one
   consultation is answered from the knowledge base through the confirmation dialog (article shown,
   SMS to the caller);
2. a dispatcher works the queue until it is empty;
3. a unit clerk signs and replies with a photo (made here) on the ticket page; the dispatcher
   accepts the replies;
4. the citizen rates 不满意 from the link in the rating SMS;
5. a supervisor searches from the header, flags a ticket, opens it from the board and issues 督办,
   rules the 不满意 as 重办, and watches the 热点 page receive a surge alert without a reload;
6. all along, the citizen's status page (ticket number + last four digits) says what staff did.

The server runs in a subprocess with its own database (tests/ui/test_live.py's `asgi` fixture), so
database rows (the SMS outbox) are read through the server's `manage.py shell`.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.ui.conftest import BROWSER_TIMEOUT_MS, PHONE, screenshot
from tests.ui.test_hotspots_page import BURST
from tests.ui.test_live import AsgiServer, _signed_in, asgi  # noqa: F401 (the module-scoped server fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

KB_ANSWER = (
    "居住证有效期满前30日内，持身份证、原居住证和居住地证明到居住地派出所或网上办事大厅办理签注，当场办结，不收费。"
)
KB_SETUP = f"""
from tickets.core.actors import Actor
from tickets.knowledge.services import articles
from tickets.org.models import User
articles.kb_article_create(actor=Actor.of(User.objects.get(username="supervisor1")),
    question="居住证到期如何续签？", answer="{KB_ANSWER}", keywords="居住证 续签 签注 到期")
"""

# (诉求内容, 来电号码, 姓名, 地址, the top-level category the dispatcher picks); WAGES is the caller
# whose status page is followed all shift.
WAGES = (
    "我在幸福路8号的装修公司打工，老板拖欠我三个月工资一直不给，打电话也不接",
    "13512340001",
    "王秀英",
    "东湖区新华街道幸福路8号",
    "劳动和社会保障",
)
MANHOLE = (
    "滨江路和人民路交叉口的井盖丢了，晚上很黑，已经有电动车差点掉进去",
    "13512340002",
    "李强",
    "江滨区滨江路与人民路交叉口",
    "交通运输",
)
MANHOLE_AGAIN = (
    "滨江路和人民路交叉口的井盖丢了，晚上很黑，骑电动车差点掉进去，请尽快补上",
    "13512340003",
    "赵敏",
    "江滨区滨江路与人民路交叉口",
    "交通运输",
)
CONSULT = ("想问一下居住证到期了怎么续签，需要带什么材料去哪里办", "13512340004", "陈静", "")
INSURANCE = (
    "入职公司半年了，公司一直没给我缴纳社保，问人事也说再等等",
    "13512340005",
    "刘洋",
    "西山区山前街道建设路12号",
    "劳动和社会保障",
)
OTHERS = [
    (
        "12路公交车早上经常不按时发车，昨天在站台等了四十分钟才来一辆",
        "13512340006",
        "孙丽",
        "南城区永安街道公交站",
        "交通运输",
    ),
    ("社区卫生服务中心看病排队太久，上午只有一个医生坐诊", "13512340007", "周杰", "北塘区兴隆街道", "卫生计生"),
    (
        "学校门口小摊卖的烤肠，孩子吃了以后拉肚子，怀疑不卫生",
        "13512340008",
        "吴婷",
        "东湖区湖滨街道实验小学门口",
        "卫生计生",
    ),
    ("在商场买的电饭煲用了一周就坏了，商家不给退也不给换", "13512340009", "郑涛", "高新区科创街道万达广场", "商贸旅游"),
    (
        "小区旁边的健身房突然关门了，办的年卡还有八个月没用，要求退费",
        "13512340010",
        "冯娜",
        "江滨区滨江街道",
        "商贸旅游",
    ),
    (
        "孩子明年上小学，想了解我们小区划片对应的是哪所学校",
        "13512340011",
        "陈超",
        "南城区永安街道桂花园小区",
        "教育文体",
    ),
    ("东湖路有一段路面坑坑洼洼，下雨天积水很深，车开过去溅人一身", "13512340012", "褚霞", "东湖区东湖路", "交通运输"),
    (
        "我们楼栋已经停电两个多小时了，冰箱里的东西都要坏了",
        "13512340013",
        "卫勇",
        "西山区丽湖街道丽湖花园5栋",
        "城乡建设",
    ),
    ("小河边有工厂往河里排黄色的水，气味很刺鼻，鱼都死了", "13512340014", "蒋燕", "北塘区兴隆街道小河村", "环境保护"),
    ("附近工厂的烟囱每天晚上冒黑烟，家里窗户都不敢开", "13512340015", "沈斌", "高新区科创街道工业园", "环境保护"),
    ("出租车司机拒载，说不顺路，不肯送我去火车站", "13512340016", "韩红", "南城区火车站广场", "交通运输"),
    ("体育公园的篮球架坏了好几个月，一直没人来修", "13512340017", "杨明", "东湖区体育公园", "教育文体"),
    ("跟团旅游的导游强迫我们进店购物，不买就甩脸色", "13512340018", "朱玲", "", "商贸旅游"),
    (
        "孩子打完疫苗后发烧，接种点没有安排留观，想反映一下",
        "13512340019",
        "秦芳",
        "江滨区滨江街道社区卫生服务中心",
        "卫生计生",
    ),
    (
        "孩子报的校外培训班收了一年学费后关门了，两万多块钱退不回来",
        "13512340020",
        "许军",
        "高新区科创街道星光大厦",
        "教育文体",
    ),
]


def _png() -> bytes:
    image = Image.new("RGB", (640, 480), (70, 130, 180))
    image.paste((240, 240, 240), (100, 100, 540, 380))  # something to see in the thumbnail
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _shell(server: AsgiServer, code: str) -> str:
    return server.manage("shell", "-c", code).strip()


def _keyboard_call(console: Any, text: str, phone: str, name: str, address: str, *, before_enter: Any = None) -> str:
    """One call typed the way an operator does: the form opens with the cursor in 诉求类型."""
    keys = console.keyboard
    expect(console.locator("#f-kind")).to_be_focused()
    keys.press("Tab")  # 紧急程度
    keys.press("Tab")  # 诉求内容
    keys.type(text)
    keys.press("Tab")  # 来电号码
    keys.type(phone)
    keys.press("Tab")  # 姓名
    keys.type(name)
    keys.press("Tab")  # 地址
    keys.type(address)
    if before_enter is not None:
        before_enter()
    with console.expect_navigation():
        keys.press("Enter")
    found = re.search(r"工单号 (\d+)", console.get_by_role("status").inner_text())
    assert found is not None
    return found.group(1)


def _citizen_status(citizen: Any, number: str, phone: str) -> Any:
    citizen.goto("/citizen/status/")
    citizen.get_by_label("工单号").fill(number)
    citizen.get_by_label("手机号后四位").fill(phone[-4:])
    with citizen.expect_navigation():
        citizen.get_by_role("button", name="查询").click()
    return citizen.get_by_test_id("state")


def test_whole_shift(browser: Any, asgi: AsgiServer) -> None:  # noqa: F811
    _shell(asgi, KB_SETUP)
    citizen_ctx = browser.new_context(viewport=PHONE, locale="zh-CN", base_url=asgi.url, is_mobile=True)
    citizen_ctx.set_default_timeout(BROWSER_TIMEOUT_MS)
    citizen = citizen_ctx.new_page()

    # 1. The operator: 20 calls by keyboard.
    console = _signed_in(browser, asgi.url, "operator1", "/console/")
    expect(console.locator("body")).to_have_attribute("data-live", "on")
    numbers: dict[str, str] = {}
    numbers[WAGES[0]] = _keyboard_call(console, *WAGES[:4])
    expect(_citizen_status(citizen, numbers[WAGES[0]], WAGES[1])).to_have_text("待派单")
    # 受理 (a phone call), waiting for a dispatcher
    expect(citizen.locator(".history")).to_contain_text("已收到您的诉求")
    numbers[MANHOLE[0]] = _keyboard_call(console, *MANHOLE[:4])

    def sees_the_duplicate() -> None:
        expect(console.get_by_test_id("duplicates")).to_contain_text(numbers[MANHOLE[0]])

    numbers[MANHOLE_AGAIN[0]] = _keyboard_call(console, *MANHOLE_AGAIN[:4], before_enter=sees_the_duplicate)

    # The consultation: typed like the others, answered from the knowledge base after confirming.
    keys = console.keyboard
    expect(console.locator("#f-kind")).to_be_focused()
    keys.press("Tab")
    keys.press("Tab")
    keys.type(CONSULT[0])
    keys.press("Tab")
    keys.type(CONSULT[1])
    keys.press("Tab")
    keys.type(CONSULT[2])
    hit = console.get_by_test_id("kb-hits").get_by_role(
        "button", name="以知识库“居住证到期如何续签？”直接答复（需确认）"
    )
    hit.click()  # deliberately out of the Tab path: Enter always registers (受理)
    dialog = console.get_by_test_id("kb-confirm")
    expect(dialog).to_contain_text(KB_ANSWER)
    expect(dialog).to_contain_text("135 1234 0004")
    with console.expect_navigation():
        dialog.get_by_role("button", name="确认答复并办结").click()
    expect(console.get_by_role("status")).to_contain_text("已按知识库直接答复并办结")
    consult_number = re.search(r"\d{14}", console.get_by_role("status").inner_text())
    assert consult_number is not None

    for call in (INSURANCE, *OTHERS):
        numbers[call[0]] = _keyboard_call(console, *call[:4])
    assert len(numbers) + 1 == 20

    # The duplicate, merged on its ticket page (the page lists the earlier call as a candidate).
    master, child = numbers[MANHOLE[0]], numbers[MANHOLE_AGAIN[0]]
    console.locator("#panel-queue").get_by_role("link", name=child, exact=True).click()
    expect(console.get_by_test_id("ticket-number")).to_have_text(child)
    expect(console.get_by_test_id("candidates")).to_contain_text(master)
    console.get_by_label("并入主工单（工单号）").fill(master)
    console.get_by_label("并单说明").fill("同一路口井盖丢失，同一事项")
    console.get_by_role("button", name="并单", exact=True).click()
    expect(console.get_by_role("status")).to_contain_text(f"工单 {child} 已并入 {master}，已短信告知市民")
    expect(console.get_by_test_id("ticket-number")).to_have_text(master)  # now on the master ticket
    expect(console.get_by_test_id("merges")).to_contain_text(child)
    expect(_citizen_status(citizen, child, MANHOLE_AGAIN[1])).to_have_text("已并单")
    expect(citizen.locator(".history")).to_contain_text("已与相同诉求合并办理")
    sms = _shell(
        asgi,
        "from tickets.messaging.models import SmsMessage; "
        f"print(SmsMessage.objects.filter(to_phone='+86{CONSULT[1]}', purpose='answer').latest('id').body)",
    )
    assert KB_ANSWER in sms and consult_number.group(0) in sms  # the caller got the article by SMS

    # 2. The dispatcher works the queue until it is empty.
    dispatcher = _signed_in(browser, asgi.url, "dispatcher1", "/console/")
    queue = dispatcher.locator("#panel-queue")
    for call in (WAGES, MANHOLE, INSURANCE, *OTHERS):
        number = numbers[call[0]]
        row = queue.locator("tr", has_text=number)
        low = row.locator(".low-confirm")
        with dispatcher.expect_navigation():
            if low.count():  # a low-confidence suggestion asks for a confirmation first
                low.get_by_role("button").click()
            else:
                row.get_by_label("其他分类").select_option(label=call[4])
                row.get_by_role("button", name="派单", exact=True).click()
        expect(dispatcher.get_by_role("status")).to_contain_text(f"工单 {number} 已派单")
    expect(queue).to_contain_text("没有待派单的工单。")
    expect(_citizen_status(citizen, numbers[WAGES[0]], WAGES[1])).to_have_text("办理中")
    expect(citizen.get_by_text("承办单位：市人社局")).to_be_visible()

    # 3. The supervisor, while the unit works: header search, 挂牌 on the found ticket, 督办 from the board.
    supervisor = _signed_in(browser, asgi.url, "supervisor1", "/board/")
    supervisor.get_by_label("检索工单").fill("装修公司")
    with supervisor.expect_navigation():
        supervisor.get_by_label("检索工单").press("Enter")
    supervisor.get_by_role("link", name=numbers[WAGES[0]], exact=True).click()
    expect(supervisor.get_by_test_id("ticket-text")).to_contain_text("拖欠我三个月工资")
    supervisor.get_by_label("督办意见 / 挂牌理由").fill("市民反映工资仍未足额发放，挂牌跟踪")
    supervisor.get_by_role("button", name="挂牌督办").click()
    expect(supervisor.get_by_test_id("supervisions")).to_contain_text("挂牌督办")
    supervisor.goto("/board/")
    flagged = supervisor.get_by_test_id("board-problem")
    flagged.get_by_role("link", name=numbers[WAGES[0]], exact=True).click()
    expect(supervisor.get_by_test_id("ticket-number")).to_have_text(numbers[WAGES[0]])
    supervisor.get_by_label("督办意见 / 挂牌理由").fill("请市人社局三日内督促企业发放剩余工资")
    supervisor.get_by_role("button", name="督办", exact=True).click()
    expect(supervisor.get_by_test_id("supervisions")).to_contain_text("请市人社局三日内督促企业发放剩余工资")

    # 4. The unit clerk signs and replies, with a photo, on the ticket page.
    clerk = _signed_in(browser, asgi.url, "rsj_staff", "/unit/")
    replies = {
        WAGES: "已约谈装修公司负责人，拖欠的三个月工资已于今日全额发放，现场照片附后。",
        INSURANCE: "已责令公司为其补缴社保，补缴凭证见附件照片。",
    }
    for call, reply in replies.items():
        number = numbers[call[0]]
        clerk.goto("/unit/")
        clerk.get_by_test_id(f"inbox-row-{number}").get_by_role("link", name=number, exact=True).click()
        clerk.get_by_role("button", name="签收").click()
        expect(clerk.get_by_role("status")).to_contain_text("已签收")
        clerk.get_by_label("办理结果（办复）").fill(reply)
        clerk.get_by_label("附件（照片或 PDF，选填）").set_input_files(
            files=[{"name": "现场照片.png", "mimeType": "image/png", "buffer": _png()}]
        )
        clerk.get_by_role("button", name="提交办复").click()
        expect(clerk.get_by_role("status")).to_contain_text("已办复")
        expect(clerk.get_by_test_id("attachments").locator("img")).to_have_count(1)
    screenshot(clerk, "journey-unit-replied")

    # The dispatcher accepts both replies; the citizen is asked to rate.
    dispatcher.goto("/console/")
    for call in replies:
        review = dispatcher.locator("#panel-review .panel", has_text=numbers[call[0]])
        review.get_by_role("button", name="通过").click()
        expect(dispatcher.get_by_role("status")).to_contain_text("办复已通过")
    state = _citizen_status(citizen, numbers[WAGES[0]], WAGES[1])
    expect(state).to_have_text("待评价")
    expect(citizen.get_by_text("拖欠的三个月工资已于今日全额发放")).to_be_visible()

    # 5. The citizen is not satisfied: the link in the rating SMS.
    body = _shell(
        asgi,
        "from tickets.messaging.models import SmsMessage; "
        f"print(SmsMessage.objects.filter(ticket__number='{numbers[WAGES[0]]}', purpose='rating_request')"
        ".latest('id').body)",
    )
    token = re.search(r"/citizen/rate/([^/\s]+)/", body)
    assert token is not None, body
    citizen.goto(f"/citizen/rate/{token.group(1)}/")
    citizen.get_by_role("radio", name="不满意", exact=True).check()
    citizen.get_by_role("radio", name="未解决").check()
    citizen.get_by_role("radio", name="已联系").check()
    citizen.get_by_label("意见建议（不满意时请写明原因）").fill("只发了一个月工资，还有两个月没发")
    citizen.get_by_role("button", name="提交评价").click()
    expect(citizen.get_by_role("status")).to_contain_text("评价已记录")
    expect(_citizen_status(citizen, numbers[WAGES[0]], WAGES[1])).to_have_text("不满意意见审核中")

    # 6. The supervisor rules the 不满意 as 重办: the unit's own handling.
    supervisor.bring_to_front()
    supervisor.goto("/board/ratings/")
    rating = supervisor.locator("section.panel", has_text=numbers[WAGES[0]])
    expect(rating).to_contain_text("只发了一个月工资")
    rating.get_by_role("radio", name="承办单位主观原因").check()
    rating.get_by_label("处理理由（必填）").fill("工资未足额发放，属承办单位办理不到位")
    rating.get_by_role("button", name="重办").click()
    expect(supervisor.get_by_role("status")).to_contain_text("重办")
    expect(_citizen_status(citizen, numbers[WAGES[0]], WAGES[1])).to_have_text("办理中")
    expect(citizen.locator(".history")).to_contain_text("重新交办承办单位办理")
    clerk.goto("/unit/")
    expect(clerk.get_by_test_id(f"inbox-row-{numbers[WAGES[0]]}")).to_be_visible()  # back with the unit

    # The 热点 page, open on the supervisor's screen, receives a surge alert live.
    supervisor.goto("/board/hotspots/")
    expect(supervisor.locator("body")).to_have_attribute("data-live", "on")
    expect(supervisor.get_by_test_id("no-surge")).to_be_visible()
    asgi.manage("shell", "-c", BURST)
    scanner = supervisor.context.new_page()  # a second tab runs 立即检测激增
    scanner.goto("/board/hotspots/")
    scanner.get_by_role("button", name="立即检测激增").click()
    expect(scanner.get_by_role("status")).to_contain_text(re.compile(r"发现 \d+ 个激增热点"))
    expect(supervisor.get_by_test_id("surge-alerts")).to_contain_text("光明", timeout=15_000)
    assert supervisor.title().startswith("⚠")
    screenshot(supervisor, "journey-hotspots")
    for page in (console, dispatcher, clerk, supervisor, citizen):
        page.context.close()
