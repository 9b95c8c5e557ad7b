"""seed_demo: an idempotent demo city with users for every role and tickets in every state."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta

from django.db import models, transaction
from django.db.models import F

from tickets.callcentre.models import Desk
from tickets.callcentre.services import seats
from tickets.core.actors import Actor
from tickets.core.models import Assignment, Channel, Kind, Outcome, Ticket, TicketEvent, Urgency, top_lead_q
from tickets.core.services import workflow
from tickets.demo import city
from tickets.intake.services import intake
from tickets.knowledge.services.articles import kb_load_demo  # 知识库: the demo city's articles
from tickets.org.models import Category, Role, RoutingRule, Unit, UnitKind, User
from tickets.sla.services import policy
from tickets.sla.services.calendar import calendar_seed_from_package
from tickets.supervision.services.supervision import ticket_flag

# (text, category code or None, district code or None, kind)
DEMO_TICKETS = [
    (
        "东湖区新华街道幸福小区楼下烧烤店每晚营业到凌晨两点，油烟和噪音严重影响居民休息，希望尽快处理。",
        "yyrm",
        "donghu",
        Kind.COMPLAINT,
    ),
    ("西山区丽湖街道某建筑工地夜间施工，混凝土泵车噪声很大，已持续一周，请求查处。", "zswr", "xishan", Kind.COMPLAINT),
    (
        "本人在高新区某科技公司工作，公司已拖欠三个月工资共两万余元，老板失联，请求帮助讨薪。",
        "tqgz",
        "gaoxin",
        Kind.HELP,
    ),
    ("孩子今年满六周岁，户籍在南城区永安街道，想咨询小学划片入学需要准备哪些材料。", "rxxw", "nancheng", Kind.CONSULT),
    (
        "北塘区塘西街道3路公交车站台被拆除后一直没有恢复，老人等车很不方便，建议尽快恢复站台。",
        "gjxl",
        "beitang",
        Kind.SUGGESTION,
    ),
    (
        "在江滨区一家健身房办了年卡，现在门店关门，预付卡里还有三千元无法退还，请帮忙维权。",
        "yfk",
        "jiangbin",
        Kind.COMPLAINT,
    ),
    ("东湖区湖滨街道某小区物业长期不打扫楼道，电梯经常故障，业主多次反映无人处理。", "wygl", "donghu", Kind.COMPLAINT),
    ("西山区山前街道居民楼顶有人私自加盖彩钢房，存在安全隐患，请相关部门核查。", "wzjz", "xishan", Kind.REPORT),
    ("想咨询灵活就业人员如何在本市缴纳职工养老保险，需要到哪里办理。", "sbyb", None, Kind.CONSULT),
    (
        "南城区和平街道一家餐馆后厨卫生很差，吃完饭后家人腹泻，怀疑食品不安全，要求检查。",
        "spaq",
        "nancheng",
        Kind.REPORT,
    ),
    ("高新区科创街道路口长期有车辆占用人行道违停，行人只能走机动车道，很危险。", "wztc", "gaoxin", Kind.COMPLAINT),
    ("江滨区滨江街道自来水发黄有异味，已经三天了，影响全楼居民用水。", "sdq", "jiangbin", Kind.HELP),
    ("市第一人民医院挂号排队时间太长，希望增加自助机和网上预约号源。", "ylfw", None, Kind.SUGGESTION),
    ("北塘区兴隆街道河道有工厂偷排污水，河水发黑发臭，请环保部门查处。", "swr", "beitang", Kind.REPORT),
    ("咨询一下儿童接种水痘疫苗需要提前预约吗，在哪个社区卫生服务中心可以打。", "ymjz", "donghu", Kind.CONSULT),
    ("东关街道城管执法人员态度很好，帮我们解决了小区门口占道经营问题，特此表扬。", None, "donghu", Kind.PRAISE),
    ("家门口的路灯坏了一个多月，晚上出行很不安全。", None, None, Kind.HELP),
    ("网约车司机绕路多收费，投诉平台不处理，请求交通部门介入。", "czc", None, Kind.COMPLAINT),
]

PhaseFn = Callable[[Ticket], None]


def _user(
    username: str, role: str, unit: Unit | None = None, *, superuser: bool = False, random_password: bool = False
) -> tuple[User, bool, str | None]:
    """The demo account and the password set now (None: an existing account was left as it was).

    With `random_password` (a production server that allowed demo data) a new account gets a random
    password, and an existing one that still has the published demo password gets one too.
    """
    known = city.ADMIN_PASSWORD if superuser else city.PASSWORD
    password = secrets.token_urlsafe(12) if random_password else known
    user, created = User.objects.get_or_create(username=username, defaults={"role": role, "unit": unit})
    if created:
        user.is_staff = superuser or role in (Role.ADMIN,)
        user.is_superuser = superuser
    elif not (random_password and user.check_password(known)):
        return user, False, None
    user.set_password(password)
    user.save()
    return user, created, password


# People's names for the demo accounts (pages show 姓名（单位）, never a login name).
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
    "余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)
GIVEN = [
    "芳",
    "洋",
    "静",
    "强",
    "敏",
    "磊",
    "丽",
    "军",
    "婷",
    "涛",
    "娜",
    "超",
    "霞",
    "勇",
    "燕",
    "杰",
    "玲",
    "斌",
    "红",
    "明",
]


def _name(user: User, index: int) -> None:
    """Give a demo account a person's name once (an admin's later edit is kept)."""
    if user.last_name or user.first_name:
        return
    if user.is_superuser:
        user.last_name, user.first_name = "系统", "管理员"
    else:
        user.last_name, user.first_name = SURNAMES[index % len(SURNAMES)], GIVEN[index % len(GIVEN)]
    user.save(update_fields=["last_name", "first_name"])


def seed_units() -> dict[str, Unit]:
    units: dict[str, Unit] = {}

    def upsert(code: str, name: str, kind: str, parent: Unit | None = None, aliases: list[str] | None = None) -> Unit:
        unit, _ = Unit.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "parent": parent,
                "aliases": aliases or [],
                "liaison_name": f"{name}联络员",
                "liaison_phone": "+8613800138000",
            },
        )
        units[code] = unit
        return unit

    upsert(*city.CENTRE, UnitKind.CENTRE)
    for code, name in city.DEPARTMENTS:
        upsert(code, name, UnitKind.DEPARTMENT)
    for code, name in city.UTILITIES:
        upsert(code, name, UnitKind.UTILITY)
    for d_code, d_name, aliases, streets in city.DISTRICTS:
        district = upsert(d_code, d_name, UnitKind.DISTRICT, aliases=aliases)
        for s_code, s_name, communities in streets:
            street = upsert(f"{d_code}-{s_code}", s_name, UnitKind.STREET, district, [s_name.removesuffix("街道")])
            for i, c_name in enumerate(communities, 1):
                upsert(f"{d_code}-{s_code}-c{i}", c_name, UnitKind.COMMUNITY, street)
    return units


def seed_categories() -> dict[str, Category]:
    cats: dict[str, Category] = {}
    for code, name, functional, parent in city.CATEGORIES:
        cat, _ = Category.objects.update_or_create(
            code=code,
            defaults={"name": name, "is_functional": functional, "parent": cats.get(parent or "")},
        )
        cats[code] = cat
    return cats


def seed_routing(units: dict[str, Unit], cats: dict[str, Category]) -> None:
    def rule(cat: str, where: Unit | None, lead: Unit, assists: list[str]) -> None:
        obj, _ = RoutingRule.objects.update_or_create(
            category=cats[cat], jurisdiction=where, defaults={"lead_unit": lead}
        )
        obj.assisting_units.set([units[a] for a in assists])

    for cat, (lead, assists) in city.CITY_RULES.items():
        rule(cat, None, units[lead], assists)
    for d_code, *_ in city.DISTRICTS:
        for cat, assists in city.DISTRICT_RULES.items():
            rule(cat, units[d_code], units[d_code], assists)


def seed_users(units: dict[str, Unit], *, random_passwords: bool = False) -> list[tuple[str, str, str, bool]]:
    """(username, role, password shown to the operator, created) per demo account."""
    rows = []
    specs: list[tuple[str, str, Unit | None, bool]] = [
        ("admin", Role.ADMIN, None, True),
        ("operator1", Role.OPERATOR, None, False),
        ("operator2", Role.OPERATOR, None, False),
        ("dispatcher1", Role.DISPATCHER, None, False),
        ("supervisor1", Role.SUPERVISOR, None, False),
    ]
    for code, _ in [*city.DEPARTMENTS, *city.UTILITIES]:
        specs.append((f"{code}_staff", Role.UNIT_STAFF, units[code], False))
    for d_code, _, _, streets in city.DISTRICTS:
        specs.append((f"{d_code}_staff", Role.UNIT_STAFF, units[d_code], False))
        for s_code, *_ in streets:
            specs.append((f"{d_code}_{s_code}_staff", Role.UNIT_STAFF, units[f"{d_code}-{s_code}"], False))
    for index, (username, role, unit, superuser) in enumerate(specs):
        account, created, password = _user(username, role, unit, superuser=superuser, random_password=random_passwords)
        _name(account, index)
        if password is None:  # an existing account: its password was not touched
            password = "（未改动）" if random_passwords else (city.ADMIN_PASSWORD if superuser else city.PASSWORD)
        rows.append((username, Role(role).label + (f"（{unit.name}）" if unit else ""), password, created))
    return rows


def _staff_of(unit: Unit) -> Actor:
    return Actor.of(User.objects.filter(unit=unit, role=Role.UNIT_STAFF).first())  # type: ignore[arg-type]


def _lead(ticket: Ticket) -> Assignment:
    return ticket.assignments.filter(top_lead_q()).order_by("-round", "-id").first()  # type: ignore[return-value]


def seed_tickets(units: dict[str, Unit], cats: dict[str, Category]) -> int:
    """Tickets pushed through the real services into every state; skipped when already seeded."""
    if Ticket.objects.filter(external_ref__startswith="demo-").exists():
        return 0
    operator = Actor.of(User.objects.get(username="operator1"))
    dispatcher = Actor.of(User.objects.get(username="dispatcher1"))
    supervisor = Actor.of(User.objects.get(username="supervisor1"))
    districts = {code: units[code] for code, *_ in city.DISTRICTS}

    def sign(t: Ticket) -> None:
        workflow.assignment_sign(assignment=_lead(t), actor=_staff_of(_lead(t).unit))

    def reply(t: Ticket) -> None:
        sign(t)
        workflow.assignment_reply(
            assignment=_lead(t),
            actor=_staff_of(_lead(t).unit),
            text="经现场核查，已责令整改，问题已解决，并已电话告知来电人。",
        )

    def rating(t: Ticket) -> None:
        reply(t)
        workflow.ticket_review_reply(ticket=t, actor=dispatcher, accept=True, reason="办复内容完整")

    def closed(t: Ticket) -> None:
        rating(t)
        workflow.ticket_close(ticket=t, actor=operator, reason="回访满意")

    def reopened(t: Ticket) -> None:
        rating(t)
        workflow.ticket_reopen(ticket=t, actor=supervisor, reason="市民反映问题仍未解决")

    def return_requested(t: Ticket) -> None:
        workflow.assignment_request_return(
            assignment=_lead(t),
            actor=_staff_of(_lead(t).unit),
            reason="该事项不属于本单位职责",
            legal_basis="《演示市职责分工规定》第三条",
        )

    def extension_requested(t: Ticket) -> None:
        sign(t)
        lead = _lead(t)
        assert lead.reply_due_at is not None  # set when the assignment was signed
        workflow.assignment_request_extension(
            assignment=lead,
            actor=_staff_of(lead.unit),
            until=lead.reply_due_at + timedelta(days=5),
            reason="需协调多个部门联合执法",
        )

    phases: list[tuple[str, PhaseFn | None]] = [
        ("pending_sign", None),
        ("pending_sign", None),
        ("signed", sign),
        ("signed", sign),
        ("replied", reply),
        ("replied", reply),
        ("rating", rating),
        ("rating", rating),
        ("closed", closed),
        ("closed", closed),
        ("closed", closed),
        ("reopened", reopened),
        ("return_requested", return_requested),
        ("extension_requested", extension_requested),
    ]
    made = 0
    for i, (text, cat, district, kind) in enumerate(DEMO_TICKETS * 2):
        _phase_name, phase = phases[i % len(phases)]
        ticket = intake.ticket_create(
            actor=operator,
            channel=[Channel.PHONE, Channel.SMS, Channel.WEB, Channel.APP][i % 4],
            text=text,
            kind=kind,
            urgency=Urgency.URGENT if i % 9 == 0 else Urgency.NORMAL,
            citizen_name=f"市民{i + 1:02d}",
            citizen_phone=f"+86139{i:04d}{(i * 7919) % 10000:04d}",
            citizen_address="演示市" + (districts[district].name if district else ""),
            confidential=i % 11 == 5,
            jurisdiction=districts.get(district or ""),
            category=cats.get(cat or ""),
            external_ref=f"demo-{i + 1:03d}",
        )
        made += 1
        if ticket.state == "in_progress" and phase is not None:
            phase(ticket)
    # Intake outcomes that end without dispatch, drafts, merges.
    extra = [
        ("楼下垃圾桶满了没人清运，请问归哪个部门管？", Outcome.DIRECT_ANSWER),
        ("有人在小区门口打架，已经有人受伤了！", Outcome.EMERGENCY_110),
        ("我对法院的判决结果不服，想反映情况。", Outcome.LAWFUL_CHANNEL),
    ]
    for j, (text, outcome) in enumerate(extra):
        t = intake.ticket_create(
            actor=operator,
            channel=Channel.PHONE,
            text=text,
            kind=Kind.CONSULT,
            external_ref=f"demo-x{j}",
            auto_route=False,
        )
        if outcome == Outcome.DIRECT_ANSWER:
            workflow.ticket_answer_directly(
                ticket=t, actor=operator, answer="生活垃圾清运由所在街道环卫所负责，已告知联系电话。"
            )
        else:
            workflow.ticket_mark_out_of_scope(ticket=t, actor=operator, outcome=outcome, reason="已按规定告知并转接")
        made += 1
    # Two drafts for the operators to complete, as the phone and SMS doors leave them (the words as
    # Twilio delivered them are the ticket page's 来信记录).
    heard = "来电反映小区停水，未说明具体地址。"
    sent = "我家小区从昨天晚上开始停水，物业说不清什么时候来水"
    for j, (channel, text, raw) in enumerate(
        [
            (Channel.PHONE, f"（电话录音）{heard}", {"SpeechResult": heard}),
            (Channel.SMS, sent, {"Body": sent, "From": "+8613700000001"}),
        ]
    ):
        intake.ticket_create(
            actor=Actor.system("twilio"),
            channel=channel,
            text=text,
            citizen_phone=f"+8613700{j:06d}",
            draft=True,
            external_ref=f"demo-d{j}",
            raw=raw,
        )
        made += 1
    master = Ticket.objects.get(external_ref="demo-001")
    dup = intake.ticket_create(
        actor=operator,
        channel=Channel.SMS,
        text=DEMO_TICKETS[0][0],
        kind=Kind.COMPLAINT,
        citizen_phone="+8613912345678",
        external_ref="demo-m1",
        auto_route=False,
    )
    workflow.ticket_merge(ticket=dup, master=master, actor=dispatcher, reason="同一烧烤店油烟噪声问题重复来电")
    made += 1
    # Show the supervisor board something late: a few open tickets as if received LATE_BY ago, so
    # their deadlines have passed and their history still reads in order (receipt before deadline).
    late = Ticket.objects.filter(external_ref__in=["demo-001", "demo-003", "demo-015"], closed_at__isnull=True)
    _backdate(list(late.values_list("pk", flat=True)), LATE_BY)
    # 挂牌督办 on the first of them, so 工单查询's 只看挂牌督办 and the board's flag have a case.
    first_late = late.filter(external_ref="demo-001").first()
    if first_late is not None:
        ticket_flag(ticket=first_late, actor=supervisor, reason="逾期未办结，市民多次来电催问")
    return made


LATE_BY = timedelta(days=9)  # 5 working days' limit (about a week) and a day or two past it


def _backdate(ticket_ids: list[int], by: timedelta) -> None:
    """Every moment of these tickets (the ticket, its events and assignments) moved back together."""
    for model, key in ((Ticket, "pk__in"), (TicketEvent, "ticket_id__in"), (Assignment, "ticket_id__in")):
        moments = [f.name for f in model._meta.concrete_fields if isinstance(f, models.DateTimeField)]
        model.objects.filter(**{key: ticket_ids}).update(**{name: F(name) - by for name in moments})


DEMO_DESKS = [("enterprise", "企业专席", "1"), ("dialect", "方言专席", "2")]


def seed_callcentre() -> None:
    """呼叫中心: two 专席 beside the general desk (keys 1 and 2 in the menu); the centre's demo users
    get a seat skilled for every desk (operator2 not for 方言专席, so skills show on the wallboard)."""
    general, _ = Desk.objects.get_or_create(code="general", defaults={"name": "普通话综合", "is_default": True})
    desks = [general]
    for n, (code, name, digit) in enumerate(DEMO_DESKS, start=1):
        desks.append(Desk.objects.get_or_create(code=code, defaults={"name": name, "digit": digit, "sort": n})[0])
    for username in ("operator1", "operator2", "dispatcher1", "supervisor1"):
        user = User.objects.filter(username=username).first()
        if user is None:
            continue
        seat = seats.seat_for(user)
        seat.skills.set(desks if username != "operator2" else desks[:2])


@transaction.atomic
def demo_seed(*, random_passwords: bool = False) -> dict[str, object]:
    calendar_seed_from_package()
    policy.profile_ensure_default()
    units = seed_units()
    cats = seed_categories()
    seed_routing(units, cats)
    users = seed_users(units, random_passwords=random_passwords)
    made = seed_tickets(units, cats)
    kb_load_demo()
    seed_callcentre()
    return {"units": len(units), "categories": len(cats), "users": users, "tickets_created": made}
