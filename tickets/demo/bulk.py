"""seed_bulk: millions of realistic tickets written with PostgreSQL COPY, for the scale benchmarks.

Each ticket goes through the lifecycle the workflow would give it (受理 → 派单 → 签收 → 办复 →
审核 → 回访评价 → 办结, with 直接答复, 不予派单, 退单 and 重办 on the way), cut at "now", so
recent tickets are still open and a few old ones are stuck and overdue. Every step writes the
TicketEvent the workflow writes (same action, states and data keys), so `metrics_rebuild` can
replay the history; the scorecard counters the events imply (by the rules of
`tickets/metrics/services/rules.py`) are added up while generating and written once at the end
(the test checks they equal a rebuild from the events).

Rows are produced by a thread while the main thread streams the previous chunk with COPY FROM
STDIN; ids are assigned here and the identity sequences advanced afterwards. Ticket numbers
continue each local day's TicketNumberSequence, so they stay unique next to existing tickets.
The generator assumes nobody else writes tickets while it runs (it is a seeding tool).
"""

from __future__ import annotations

import queue
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from tickets.core.models import Assignment, Ticket, TicketEvent, TicketNumberSequence
from tickets.demo.bulk_text import citizen_names, text_pool
from tickets.feedback.models import Rating, RatingRequest
from tickets.metrics.models import COUNTERS, UnitDayStats, UnitMonthStats
from tickets.org.models import Category, Role, RoutingRule, Unit, UnitKind, User

DAY = 86400
HOUR = 3600
LOCAL_OFFSET = 8 * HOUR  # Asia/Shanghai has no daylight saving: local day = (utc + 8 h) // day
NULL = "\\N"
C = {name: i for i, name in enumerate(COUNTERS)}

TICKET_COLUMNS = (
    "id, number, channel, kind, urgency, title, text, citizen_name, citizen_phone, citizen_address, "
    "confidential, anonymous, state, due_at, outcome, outcome_reason, reopen_count, units_passed, is_problem, "
    "is_flagged, classification, category_source, external_ref, created_at, updated_at, closed_at, category_id, "
    "created_by_id, merged_into_id, jurisdiction_id, lead_unit_id"
)
ASSIGNMENT_COLUMNS = (
    "id, unit_path, role, state, state_before_request, round, dispatched_at, sign_due_at, reply_due_at, signed_at, "
    "replied_at, ended_at, reply_text, return_reason, return_legal_basis, extension_until, extension_reason, "
    "extension_count, sign_on_time, reply_on_time, note, calendar_gap_year, warn_at, supervise_at, notice_at, "
    "sign_warned_at, warned_at, supervised_at, noticed_at, clock_paused_at, paused_seconds, dispatched_by_id, "
    "parent_id, sla_policy_id, ticket_id, unit_id"
)
EVENT_COLUMNS = (
    "id, ticket_id, assignment_id, actor_kind, actor_id, action, from_state, to_state, reason, data, created_at"
)
RATING_COLUMNS = (
    "id, round, satisfaction, solved, contacted, comment, channel, phone, created_at, cause, review, "
    "review_reason, reviewed_at, reviewed_by_id, ticket_id"
)
REQUEST_COLUMNS = "id, round, requested_at, expires_at, state, ticket_id"

TABLES: dict[str, tuple[type, str]] = {
    "ticket": (Ticket, TICKET_COLUMNS),
    "assignment": (Assignment, ASSIGNMENT_COLUMNS),
    "event": (TicketEvent, EVENT_COLUMNS),
    "rating": (Rating, RATING_COLUMNS),
    "request": (RatingRequest, REQUEST_COLUMNS),
}

CHANNELS = ["phone"] * 55 + ["web"] * 15 + ["app"] * 20 + ["sms"] * 10
KINDS = ["complaint"] * 40 + ["help"] * 30 + ["consult"] * 15 + ["report"] * 8 + ["suggestion"] * 5 + ["praise"] * 2
URGENCY = ["normal"] * 90 + ["urgent"] * 9 + ["critical"]
REPLY_DAYS = {"normal": 7, "urgent": 3, "critical": 1}
REPLIES = [
    "经现场核查，已责令整改，问题已解决，并已电话告知来电人。",
    "已联系来电人说明情况，相关部门已介入处理，后续将持续跟踪。",
    "经核实，反映情况属实，已督促责任单位限期整改完毕。",
    "已向来电人解释相关政策规定，来电人表示理解。",
]
LABELS = {"satisfied": "满意", "basic": "基本满意", "dissatisfied": "不满意"}


@dataclass(frozen=True)
class HandlingUnit:
    id: int
    code: str
    name: str
    path: str
    staff_id: int


@dataclass
class Org:
    """The city as the generator needs it: who handles what, where, and who acts."""

    centre_id: int
    operator_ids: list[int]
    dispatcher_id: int
    supervisor_id: int
    districts: list[tuple[HandlingUnit, list[HandlingUnit]]]  # district, its streets
    leaves: list[tuple[int, str, str, bool]]  # category id, name, top-level code, functional
    city_rule: dict[int, HandlingUnit]  # category id → lead unit (city-wide)
    district_rule: dict[tuple[int, int], HandlingUnit]  # (category id, district id) → lead
    units: dict[int, HandlingUnit] = field(default_factory=dict)


def _handling(unit: Unit, staff: dict[int, int]) -> HandlingUnit:
    return HandlingUnit(unit.pk, unit.code, unit.name, unit.path, staff.get(unit.pk, 0))


def org_prepare(*, units: int = 0) -> Org:
    """Read the demo city (seed_demo must have run); add generated streets until `units` handle tickets."""
    centre = Unit.objects.filter(kind=UnitKind.CENTRE).order_by("id").first()
    if centre is None or not RoutingRule.objects.exists():
        raise RuntimeError("run `manage.py seed_demo` first: seed_bulk spreads tickets over its units")
    handling_kinds = (UnitKind.DEPARTMENT, UnitKind.UTILITY, UnitKind.DISTRICT, UnitKind.STREET)
    districts = list(Unit.objects.filter(kind=UnitKind.DISTRICT).order_by("id"))
    have = Unit.objects.filter(kind__in=handling_kinds).count()
    i = 0
    password = make_password(None)
    while have < units:
        district = districts[i % len(districts)]
        n = i // len(districts) + 1
        code = f"{district.code}-g{n}"
        street, created = Unit.objects.get_or_create(
            code=code, defaults={"name": f"{district.name}第{n}街道", "kind": UnitKind.STREET, "parent": district}
        )
        if created:
            User.objects.create(
                username=f"{code}_staff", role=Role.UNIT_STAFF, unit=street, password=password, is_active=True
            )
            have += 1
        i += 1
    staff: dict[int, int] = {}
    for user_id, unit_id in User.objects.filter(role=Role.UNIT_STAFF).order_by("-id").values_list("id", "unit_id"):
        staff[unit_id] = user_id
    by_id = {u.pk: u for u in Unit.objects.filter(kind__in=handling_kinds)}
    for unit in by_id.values():
        if unit.pk not in staff:  # every handling unit needs someone to sign and reply
            user = User.objects.create(
                username=f"{unit.code}_staff", role=Role.UNIT_STAFF, unit=unit, password=make_password(None)
            )
            staff[unit.pk] = user.pk
    handling = {pk: _handling(u, staff) for pk, u in by_id.items()}
    district_list = [
        (handling[d.pk], [handling[s.pk] for s in by_id.values() if s.parent_id == d.pk and s.kind == UnitKind.STREET])
        for d in districts
    ]
    cats = {c.pk: c for c in Category.objects.select_related("parent")}
    leaves = []
    for c in cats.values():
        if c.parent_id is None:
            continue
        top = c.parent
        assert top is not None
        leaves.append((c.pk, c.name, top.code, c.is_functional_matter()))
    city_rule: dict[int, HandlingUnit] = {}
    district_rule: dict[tuple[int, int], HandlingUnit] = {}
    for rule in RoutingRule.objects.filter(is_active=True):
        if rule.lead_unit_id not in handling:
            continue
        if rule.jurisdiction_id is None:
            city_rule[rule.category_id] = handling[rule.lead_unit_id]
        else:
            district_rule[(rule.category_id, rule.jurisdiction_id)] = handling[rule.lead_unit_id]
    for pk, c in cats.items():  # a leaf without its own city rule falls back to its parent's
        if pk not in city_rule and c.parent_id in city_rule:
            city_rule[pk] = city_rule[c.parent_id]

    def ids(role: str) -> list[int]:
        return list(User.objects.filter(role=role).order_by("id").values_list("id", flat=True))

    return Org(
        centre_id=centre.pk,
        operator_ids=ids(Role.OPERATOR) or [0],
        dispatcher_id=(ids(Role.DISPATCHER) or [0])[0],
        supervisor_id=(ids(Role.SUPERVISOR) or [0])[0],
        districts=district_list,
        leaves=sorted(leaves),
        city_rule=city_rule,
        district_rule=district_rule,
        units=handling,
    )


class _Clock:
    """Fast timestamp text for COPY: one strftime per minute, cached."""

    def __init__(self) -> None:
        self._hours: dict[int, str] = {}
        self._mmss = [f"{m:02d}:{s:02d}+00" for m in range(60) for s in range(60)]

    def ts(self, sec: int) -> str:
        hour, rest = divmod(sec, 3600)
        base = self._hours.get(hour)
        if base is None:
            base = self._hours[hour] = datetime.fromtimestamp(hour * 3600, UTC).strftime("%Y-%m-%d %H:")
        return base + self._mmss[rest]

    def iso(self, sec: int) -> str:
        return self.ts(sec).replace(" ", "T")[:-3] + "+00:00"


def _b(value: bool | None) -> str:
    return NULL if value is None else ("t" if value else "f")


@dataclass
class Ids:
    ticket: int
    assignment: int
    event: int
    rating: int
    request: int


class Generator:
    """Produces COPY text for chunks of tickets, in creation order, and the counters they imply."""

    def __init__(
        self,
        *,
        org: Org,
        seed: int,
        total: int,
        start: int,
        end: int,
        ids: Ids,
        numbers: dict[int, int],
        stride: int = 1,
    ):
        self.org = org
        self.stride = stride  # ids and day sequence numbers leave room for `stride - 1` copies in between
        self.rng = random.Random(seed)
        self.total = total
        self.start, self.end = start, end
        self.ids = ids
        self.numbers = numbers  # local day number → last sequence used
        self.clock = _Clock()
        place_names = [d.name + s.name for d, streets in org.districts for s in streets[:3]] or ["本市"]
        self.texts = text_pool(self.rng, place_names, 400)
        self.names = citizen_names(self.rng, 500)
        self.phones = [f"+86138{self.rng.randrange(10**8):08d}" for _ in range(min(max(1000, total // 3), 1_000_000))]
        self.departments = [u for u in org.units.values() if u.path.count("/") == 2 and u not in dict(org.districts)]
        self._day_text: dict[int, str] = {}
        self.stats: dict[tuple[int, int], list[int]] = {}

    # --- counters ------------------------------------------------------------------------
    def _count(self, unit_id: int, sec: int, counter: str) -> None:
        key = (unit_id, (sec + LOCAL_OFFSET) // DAY)
        row = self.stats.get(key)
        if row is None:
            row = self.stats[key] = [0] * len(COUNTERS)
        row[C[counter]] += 1

    # --- routing -------------------------------------------------------------------------
    def _lead_for(
        self, cat_id: int, functional: bool, district: HandlingUnit, streets: list[HandlingUnit]
    ) -> HandlingUnit:
        rule = self.org.district_rule.get((cat_id, district.id))
        if rule is not None:
            if not functional and streets and self.rng.random() < 0.6:
                return self.rng.choice(streets)  # 属地 matters go down to the street
            return rule
        return self.org.city_rule.get(cat_id) or district

    def chunk(self, first: int, count: int, now: int) -> dict[str, str]:
        out: dict[str, list[str]] = {name: [] for name in TABLES}
        for i in range(first, first + count):
            self._ticket(i, now, out)
        return {name: "".join(lines) for name, lines in out.items()}

    def _ticket(self, i: int, now: int, out: dict[str, list[str]]) -> None:
        rng, ts, org = self.rng, self.clock.ts, self.org
        rand = rng.random
        tickets, assignments, events = out["ticket"], out["assignment"], out["event"]
        tid = self.ids.ticket
        self.ids.ticket += self.stride
        created = self.start + (self.end - self.start) * i // self.total + int(rand() * 30)
        day = (created + LOCAL_OFFSET) // DAY
        seq = self.numbers.get(day, 0) + 1
        self.numbers[day] = seq + self.stride - 1
        day_text = self._day_text.get(day)
        if day_text is None:
            day_text = self._day_text[day] = datetime.fromtimestamp(day * DAY, UTC).strftime("%Y%m%d")
        number = f"{day_text}{seq:06d}"
        channel = CHANNELS[int(rand() * len(CHANNELS))]
        kind = KINDS[int(rand() * len(KINDS))]
        urgency = URGENCY[int(rand() * len(URGENCY))]
        cat_id, _cat_name, top, functional = org.leaves[int(rand() * len(org.leaves))]
        district, streets = org.districts[int(rand() * len(org.districts))]
        texts = self.texts.get(top) or self.texts["cxjs"]
        text = texts[int(rand() * len(texts))]
        phone = self.phones[int(rand() * len(self.phones))]
        name = self.names[int(rand() * len(self.names))]
        operator = org.operator_ids[int(rand() * len(org.operator_ids))] if channel in ("phone", "sms") else 0
        dispatcher, supervisor, centre = org.dispatcher_id, org.supervisor_id, org.centre_id

        def event(
            sec: int,
            action: str,
            *,
            actor: int = 0,
            kind: str = "user",
            assignment: int = 0,
            frm: str = "",
            to: str = "",
            reason: str = "",
            data: str = "{}",
        ) -> None:
            eid = self.ids.event
            self.ids.event += self.stride
            events.append(
                f"{eid}\t{tid}\t{assignment or NULL}\t{kind}\t{actor or NULL}\t{action}\t{frm}\t{to}\t"
                f"{reason}\t{data}\t{ts(sec)}\n"
            )

        state, outcome, outcome_reason, closed, updated = "registered", "", "", 0, created
        lead_unit: HandlingUnit | None = None
        due, units_passed, reopen_count = 0, 0, 0
        created_kind = "user" if operator else "citizen"
        event(
            created, "created", actor=operator, kind=created_kind, to="registered", data=f'{{"channel": "{channel}"}}'
        )
        self._count(centre, created, "accepted")
        r = rand()
        t = created + (60 + int(rand() * (4 * HOUR - (60))))
        if r < 0.04 and t <= now:  # 直接答复 at first contact
            answer = "已根据知识库向来电人说明办理流程和所需材料。"
            event(
                t,
                "answer_directly",
                actor=dispatcher,
                frm=state,
                to="answered_directly",
                reason=answer,
                data='{"article": null}',
            )
            self._count(centre, t, "answered_directly")
            state, outcome, outcome_reason, closed, updated = "answered_directly", "direct_answer", answer, t, t
        elif r < 0.06 and t <= now:  # 不予派单
            reason = "该事项属于诉讼程序，已告知来电人依法通过法院途径解决。"
            event(
                t,
                "mark_out_of_scope",
                actor=dispatcher,
                frm=state,
                to="out_of_scope",
                reason=reason,
                data='{"outcome": "lawful_channel"}',
            )
            state, outcome, outcome_reason, closed, updated = "out_of_scope", "lawful_channel", reason, t, t
        elif t <= now:
            stuck = rand() < 0.01  # a unit that never replies: the overdue list is never empty
            returned = rand() < 0.04  # 退单: the first unit asks to give the ticket back
            round_no = 1
            led: set[int] = set()
            lead = self._lead_for(cat_id, functional, district, streets)
            while True:
                # --- 派单 and the lead assignment --------------------------------------------------
                if round_no == 1:
                    event(
                        t,
                        "dispatch",
                        actor=dispatcher,
                        frm=state,
                        to="in_progress",
                        data=f'{{"lead_unit": "{lead.code}", "assisting_units": []}}',
                    )
                    units_passed += 1
                else:
                    pass  # 重办: the ticket is already in progress (the reopen event moved it)
                state, lead_unit, updated = "in_progress", lead, t
                aid = self.ids.assignment
                self.ids.assignment += self.stride
                sign_due = t + DAY
                reply_due = t + REPLY_DAYS[urgency] * DAY
                due = reply_due
                event(
                    t,
                    "assignment_created",
                    actor=dispatcher if round_no == 1 else supervisor,
                    assignment=aid,
                    to="pending_sign",
                    data=(
                        f'{{"unit": "{lead.code}", "unit_name": "{lead.name}", "role": "lead", "round": {round_no}, '
                        f'"sign_due_at": "{self.clock.iso(sign_due)}", "reply_due_at": "{self.clock.iso(reply_due)}"}}'
                    ),
                )
                self._count(lead.id, t, "dispatched")
                if lead.id not in led:  # 重复来电率's base: the first time a unit leads this ticket
                    led.add(lead.id)
                    self._count(lead.id, t, "led")
                a = {
                    "state": "pending_sign",
                    "before": "",
                    "signed": 0,
                    "replied": 0,
                    "ended": 0,
                    "sign_ok": None,
                    "reply_ok": None,
                    "reply_text": "",
                    "return_reason": "",
                }
                staff = lead.staff_id
                signed = t + (10 * 60 + int(rand() * (30 * HOUR - (10 * 60))))
                if returned and round_no == 1 and units_passed == 1:
                    asked = t + (HOUR + int(rand() * (20 * HOUR - (HOUR))))
                    approved = asked + (HOUR + int(rand() * (10 * HOUR - (HOUR))))
                    if approved <= now:
                        why = "该事项不属于本单位职责范围，建议改派主管部门。"
                        event(
                            asked,
                            "request_return",
                            actor=staff,
                            assignment=aid,
                            frm="pending_sign",
                            to="return_requested",
                            reason=why,
                        )
                        event(
                            approved,
                            "approve_return",
                            actor=dispatcher,
                            assignment=aid,
                            frm="return_requested",
                            to="returned",
                            reason="同意退回",
                        )
                        self._count(lead.id, approved, "returns_approved")
                        event(
                            approved,
                            "return_to_queue",
                            actor=dispatcher,
                            frm="in_progress",
                            to="dispatching",
                            reason="同意退回",
                        )
                        a.update(state="returned", before="pending_sign", ended=approved, return_reason=why)
                        self._assignment(assignments, aid, tid, lead, 1, t, sign_due, reply_due, a, now)
                        state, lead_unit, updated = "dispatching", None, approved
                        t = approved + (30 * 60 + int(rand() * (4 * HOUR - (30 * 60))))
                        if t > now:
                            break
                        # 改派: the district takes it, or (when the district itself gave it back) a department
                        lead = (
                            district
                            if lead.id != district.id
                            else self.departments[int(rand() * len(self.departments))]
                        )
                        returned = False
                        continue
                if signed > now:
                    self._assignment(assignments, aid, tid, lead, round_no, t, sign_due, reply_due, a, now)
                    break
                on_time = signed <= sign_due
                event(
                    signed,
                    "sign",
                    actor=staff,
                    assignment=aid,
                    frm="pending_sign",
                    to="signed",
                    data=f'{{"on_time": {"true" if on_time else "false"}}}',
                )
                if on_time:
                    self._count(lead.id, signed, "signed_on_time")
                a.update(state="signed", signed=signed, sign_ok=on_time)
                updated = signed
                replied = (
                    signed
                    + min(int(rng.expovariate(1 / (2.5 * DAY))), 20 * DAY)
                    + (HOUR + int(rand() * (4 * HOUR - (HOUR))))
                )
                if stuck or replied > now:
                    self._assignment(assignments, aid, tid, lead, round_no, t, sign_due, reply_due, a, now)
                    break
                on_time = replied <= reply_due
                reply = REPLIES[int(rand() * len(REPLIES))]
                event(
                    replied,
                    "reply",
                    actor=staff,
                    assignment=aid,
                    frm="signed",
                    to="replied",
                    data=f'{{"on_time": {"true" if on_time else "false"}}}',
                )
                self._count(lead.id, replied, "due")
                if on_time:
                    self._count(lead.id, replied, "replied_on_time")
                event(
                    replied,
                    "lead_replied",
                    actor=staff,
                    frm="in_progress",
                    to="replied",
                    data=f'{{"assignment": {aid}}}',
                )
                a.update(state="replied", replied=replied, ended=replied, reply_ok=on_time, reply_text=reply)
                self._assignment(assignments, aid, tid, lead, round_no, t, sign_due, reply_due, a, now)
                state, updated = "replied", replied
                reviewed = replied + (30 * 60 + int(rand() * (DAY - (30 * 60))))
                if reviewed > now:
                    break
                event(reviewed, "review_accept", actor=dispatcher, frm="replied", to="reviewed", reason="办复内容完整")
                event(reviewed, "request_rating", actor=dispatcher, frm="reviewed", to="rating")
                state, updated = "rating", reviewed
                rid = self.ids.request
                self.ids.request += self.stride
                expires = reviewed + 7 * DAY
                rated = reviewed + (HOUR + int(rand() * (3 * DAY - (HOUR)))) if rand() < 0.75 else 0
                if rated and rated <= now:
                    satisfaction = _satisfaction(rand())
                    unhappy = satisfaction == "dissatisfied"
                    solved = rand() < (0.3 if unhappy else 0.92)
                    contacted = rand() < 0.95
                    cause = ("subjective" if rand() < 0.6 else "objective") if unhappy else ""
                    rating_channel = "phone" if channel == "phone" else "sms"
                    js = "true" if solved else "false"
                    jc = "true" if contacted else "false"
                    event(
                        rated,
                        "rated",
                        kind="citizen",
                        data=(
                            f'{{"satisfaction": "{satisfaction}", "solved": {js}, "contacted": {jc}, '
                            f'"round": {round_no}, "channel": "{rating_channel}", "cause": "{cause}", '
                            f'"unit": {lead.id}}}'
                        ),
                    )
                    self._count(lead.id, rated, "ratings")
                    self._count(lead.id, rated, "valid_callbacks")  # all three answers: a valid callback
                    if contacted:
                        self._count(lead.id, rated, "contacted")
                    if solved:
                        self._count(lead.id, rated, "solved")
                    self._count(
                        lead.id,
                        rated,
                        {"satisfied": "satisfied", "basic": "basically_satisfied"}.get(satisfaction, "dissatisfied"),
                    )
                    again = rated + (HOUR + int(rand() * (2 * DAY - (HOUR))))
                    reopen = unhappy and cause == "subjective" and round_no == 1 and rand() < 0.5 and again <= now
                    review = ("reopened" if reopen else "pending") if cause == "subjective" else ""
                    out["rating"].append(
                        f"{self.ids.rating}\t{round_no}\t{satisfaction}\t{_b(solved)}\t{_b(contacted)}\t\t{rating_channel}\t"
                        f"{phone}\t{ts(rated)}\t{cause}\t{review}\t\t{NULL}\t{NULL}\t{tid}\n"
                    )
                    self.ids.rating += self.stride
                    out["request"].append(f"{rid}\t{round_no}\t{ts(reviewed)}\t{ts(expires)}\tanswered\t{tid}\n")
                    event(
                        rated,
                        "close",
                        kind="citizen",
                        frm="rating",
                        to="closed",
                        reason=f"市民评价：{LABELS[satisfaction]}",
                    )
                    closing, closed_by = rated, "resolved"
                elif expires <= now:
                    out["request"].append(f"{rid}\t{round_no}\t{ts(reviewed)}\t{ts(expires)}\texpired\t{tid}\n")
                    event(
                        expires,
                        "close",
                        kind="scheduler",
                        frm="rating",
                        to="closed",
                        reason="评价请求7天未答复，按未评价办结",
                        data='{"actor_label": "定时任务"}',
                    )
                    closing, closed_by, reopen, again = expires, "unrated", False, 0
                else:
                    out["request"].append(f"{rid}\t{round_no}\t{ts(reviewed)}\t{ts(expires)}\topen\t{tid}\n")
                    break
                self._count(lead.id, closing, "closed")
                if round_no == 1 and units_passed == 1:
                    self._count(lead.id, closing, "closed_first_time")
                state, outcome, closed, updated = "closed", closed_by, closing, closing
                # 重办: a supervisor sends a subjective 不满意 back to the same unit, once.
                if reopen:
                    event(
                        again,
                        "reopen",
                        actor=supervisor,
                        frm="closed",
                        to="in_progress",
                        reason="市民不满意，承办单位主观原因，重办",
                    )
                    self._count(lead.id, again, "reopened")
                    reopen_count, round_no, t = 1, 2, again
                    state, outcome, closed = "in_progress", "", 0
                    continue
                break
        title = text[:20]
        tickets.append(
            f"{tid}\t{number}\t{channel}\t{kind}\t{urgency}\t{title}\t{text}\t{name}\t{phone}\t"
            f"{district.name}{PLACE_SUFFIX}\t"
            f"f\tf\t{state}\t{ts(due) if due else NULL}\t{outcome}\t{outcome_reason}\t"
            f"{reopen_count}\t{units_passed}\tf\tf\t"
            f"{NULL}\thuman\tbulk-{tid}\t{ts(created)}\t{ts(updated)}\t{ts(closed) if closed else NULL}\t{cat_id}\t"
            f"{operator or NULL}\t{NULL}\t{district.id}\t{lead_unit.id if lead_unit else NULL}\n"
        )

    def _assignment(
        self,
        out: list[str],
        aid: int,
        tid: int,
        unit: HandlingUnit,
        round_no: int,
        dispatched: int,
        sign_due: int,
        reply_due: int,
        a: dict[str, object],
        now: int,
    ) -> None:
        ts = self.clock.ts
        ended = int(a["ended"])  # type: ignore[call-overload]
        signed = int(a["signed"])  # type: ignore[call-overload]
        replied = int(a["replied"])  # type: ignore[call-overload]
        warn, supervise, notice = reply_due - DAY, reply_due, reply_due + 3 * DAY
        # An open assignment whose levels are already past has had them fired (markers set), so the
        # scanner's work queues hold only what is still to come.
        fired = [ts(x) if not ended and x <= now else NULL for x in (warn, supervise, notice)]
        sign_warned = ts(sign_due) if a["state"] == "pending_sign" and sign_due <= now else NULL
        out.append(
            f"{aid}\t{unit.path}\tlead\t{a['state']}\t{a['before']}\t{round_no}\t{ts(dispatched)}\t{ts(sign_due)}\t"
            f"{ts(reply_due)}\t{ts(signed) if signed else NULL}\t{ts(replied) if replied else NULL}\t"
            f"{ts(ended) if ended else NULL}\t{a['reply_text']}\t{a['return_reason']}\t\t{NULL}\t\t0\t"
            f"{_b(a['sign_ok'])}\t{_b(a['reply_ok'])}\t\t{NULL}\t{ts(warn)}\t{ts(supervise)}\t{ts(notice)}\t"  # type: ignore[arg-type]
            f"{sign_warned}\t{fired[0]}\t{fired[1]}\t{fired[2]}\t{NULL}\t0\t{self.org.dispatcher_id or NULL}\t{NULL}\t"
            f"{NULL}\t{tid}\t{unit.id}\n"
        )


PLACE_SUFFIX = "某小区"


def _satisfaction(x: float) -> str:
    """满意 70 %, 基本满意 18 %, 不满意 12 %."""
    return "satisfied" if x < 0.70 else "basic" if x < 0.88 else "dissatisfied"


# --- the load ------------------------------------------------------------------------------


def _table(model: type) -> str:
    return model._meta.db_table  # type: ignore[attr-defined, no-any-return]


def _secondary_indexes(tables: list[str]) -> list[tuple[str, str, str]]:
    """(table, name, how to recreate) for every index and unique constraint except primary keys."""
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT t.relname, i.relname,
                   CASE WHEN con.conname IS NOT NULL
                        THEN format('ALTER TABLE %%I ADD CONSTRAINT %%I %%s', t.relname, con.conname,
                                    pg_get_constraintdef(con.oid))
                        ELSE pg_get_indexdef(i.oid) END
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class t ON t.oid = x.indrelid
            LEFT JOIN pg_constraint con ON con.conindid = i.oid AND con.contype IN ('u', 'x')
            WHERE t.relname = ANY(%s) AND NOT x.indisprimary
            ORDER BY t.relname, i.relname
            """,
            [tables],
        )
        return [(str(a), str(b), str(c)) for a, b, c in cur.fetchall()]


def _search_table() -> list[str]:
    """The word search's side table, where this database has one (PostgreSQL, migration 0019)."""
    return ["tickets_ticketsearch"] if "tickets_ticketsearch" in connection.introspection.table_names() else []


def _drop_indexes(found: list[tuple[str, str, str]]) -> None:
    with connection.cursor() as cur:
        for table, name, how in found:
            if how.startswith("ALTER TABLE"):
                cur.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            else:
                cur.execute(f'DROP INDEX "{name}"')


def _create_indexes(found: list[tuple[str, str, str]], log: Callable[[str], None]) -> None:
    with connection.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '1GB'")
        for table, name, how in found:
            began = time.monotonic()
            cur.execute(how)
            log(f"  index {table}.{name}: {time.monotonic() - began:.0f} s")


def _next_ids() -> Ids:
    def next_id(model: type) -> int:
        with connection.cursor() as cur:
            cur.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {_table(model)}")  # noqa: S608 — model constant
            return int(cur.fetchone()[0])

    return Ids(*(next_id(m) for m, _ in TABLES.values()))


def _advance_sequences() -> None:
    with connection.cursor() as cur:
        for model, _ in TABLES.values():
            table = _table(model)
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"  # noqa: S608
            )


def _save_numbers(numbers: dict[int, int]) -> None:
    table = _table(TicketNumberSequence)
    rows = [(date.fromordinal(date(1970, 1, 1).toordinal() + d), last) for d, last in numbers.items()]
    with connection.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {table} (day, last) VALUES (%s, %s) "  # noqa: S608 — model constant
            f"ON CONFLICT (day) DO UPDATE SET last = GREATEST({table}.last, excluded.last)",
            rows,
        )


def _save_stats(stats: dict[tuple[int, int], list[int]]) -> int:
    """Add the generated counters to the day rows and their month rows (UPSERT x = x + n)."""
    epoch = date(1970, 1, 1).toordinal()
    cols = ", ".join(COUNTERS)
    with connection.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE bulk_day_stats (unit_id bigint, day date, "
            + ", ".join(c + " int" for c in COUNTERS)
            + ") ON COMMIT DROP"
        )
        with cur.copy(f"COPY bulk_day_stats (unit_id, day, {cols}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for (unit_id, day), row in stats.items():
                copy.write_row([unit_id, date.fromordinal(epoch + day), *row])
        for table, key, expr in (
            (_table(UnitDayStats), "day", "day"),
            (_table(UnitMonthStats), "month", "date_trunc('month', day)::date"),
        ):
            sums = ", ".join(f"SUM({c})" for c in COUNTERS)
            updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in COUNTERS)
            cur.execute(
                f"INSERT INTO {table} (unit_id, {key}, {cols}) SELECT unit_id, {expr}, {sums} FROM bulk_day_stats "  # noqa: S608
                f"GROUP BY unit_id, {expr} ON CONFLICT (unit_id, {key}) DO UPDATE SET {updates}"
            )
    return len(stats)


def _phone_copy(column: str) -> str:
    """The copy's caller: another number of the same shape (+86138… → +861(38+k)…)."""
    return f"CASE WHEN {column} LIKE '+86138%%' THEN '+861' || (38 + k)::text || right({column}, 8) ELSE {column} END"


COPY_EXPRESSIONS: dict[str, dict[str, str]] = {
    "ticket": {
        "number": "left(number, 8) || lpad((right(number, 6)::int + k)::text, 6, '0')",
        "citizen_phone": _phone_copy("citizen_phone"),
        "external_ref": "'bulk-' || (id + k)",
    },
    "assignment": {"ticket_id": "ticket_id + k", "parent_id": "parent_id + k"},
    "event": {
        "ticket_id": "ticket_id + k",
        "assignment_id": "assignment_id + k",
        "data": (
            "CASE WHEN action = 'lead_replied' "
            "THEN jsonb_set(data, '{assignment}', to_jsonb((data->>'assignment')::bigint + k)) ELSE data END"
        ),
    },
    "rating": {"ticket_id": "ticket_id + k", "phone": _phone_copy("phone")},
    "request": {"ticket_id": "ticket_id + k"},
}


def _replicate(first: Ids, after: Ids, copies: int, log: Callable[[str], None], pieces: int = 10) -> None:
    """Fill the gaps the generator left between ids (stride = copies) with copies k = 1 … copies-1 of each
    generated row: ids + k, the same lifecycle and days, another number and caller. One set-based
    INSERT … SELECT per table and id range, rows in id order (the lateral series runs per base row)."""
    for name, (model, columns) in TABLES.items():
        lo, hi = getattr(first, name), getattr(after, name)
        if hi <= lo:
            continue
        exprs = COPY_EXPRESSIONS[name]
        select = ", ".join(
            "id + k" if c == "id" else exprs.get(c, c) for c in (col.strip() for col in columns.split(","))
        )
        table = _table(model)
        step = max(copies, ((hi - lo) // pieces // copies + 1) * copies)
        began = time.monotonic()
        with connection.cursor() as cur:
            for start in range(lo, hi, step):
                cur.execute(
                    f"INSERT INTO {table} ({columns}) SELECT {select} FROM {table} "  # noqa: S608 — model constants
                    f"CROSS JOIN LATERAL generate_series(1, %s + 0 * {table}.id) AS k "
                    f"WHERE {table}.id >= %s AND {table}.id < %s AND ({table}.id - %s) %% %s = 0",
                    [copies - 1, start, min(start + step, hi), lo, copies],
                )
                log(f"  copies of {table}: ids up to {min(start + step, hi):,} ({time.monotonic() - began:.0f} s)")


@dataclass
class Result:
    tickets: int
    rows: dict[str, int]
    seconds: float
    stat_rows: int


def bulk_seed(
    *,
    tickets: int,
    units: int = 0,
    seed: int = 12345,
    months: int = 13,
    chunk: int = 20000,
    base: int = 1_000_000,
    rebuild_indexes: bool | None = None,
    log: Callable[[str], None] = print,
    now: datetime | None = None,
) -> Result:
    """Write `tickets` tickets with their history. `rebuild_indexes` (default: above 200,000 tickets)
    drops the secondary indexes and foreign-key checks during the load and builds them afterwards.

    Above `base` tickets, `base`-sized lifecycles are generated in Python and streamed with COPY, and
    the rest are copies made inside PostgreSQL (see `_replicate`): `tickets` must then be a multiple
    of the number of copies. Python on a shared 2-core machine makes about 2,000 tickets/s with
    their history; the set-based copies are several times faster.
    """
    copies = -(-tickets // base) if tickets > base else 1
    if tickets % copies:
        raise RuntimeError(f"--tickets above {base:,} must be a multiple of {copies} (the number of copies)")
    if connection.vendor != "postgresql":
        raise RuntimeError("seed_bulk writes with PostgreSQL COPY; set DATABASE_URL")
    rebuild = tickets > 200_000 if rebuild_indexes is None else rebuild_indexes
    began = time.monotonic()
    org = org_prepare(units=units)
    end = int((now or timezone.now()).timestamp()) - HOUR
    start = end - int(months * 30.4 * DAY)
    numbers = {
        (datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp().__int__()) // DAY: last
        for d, last in TicketNumberSequence.objects.values_list("day", "last")
    }
    ids = _next_ids()
    generated = tickets // copies
    gen = Generator(
        org=org, seed=seed, total=generated, start=start, end=end, ids=Ids(**vars(ids)), numbers=numbers, stride=copies
    )
    tables = [_table(m) for m, _ in TABLES.values()]
    dropped: list[tuple[str, str, str]] = []
    rows = dict.fromkeys(TABLES, 0)
    log(
        f"seed_bulk: {tickets:,} tickets over {len(org.units)} units, {months} months; ids from {ids}; "
        f"{generated:,} generated" + (f", each copied {copies - 1} times in SQL" if copies > 1 else "")
    )
    with transaction.atomic():
        if rebuild:
            dropped = _secondary_indexes([*tables, *_search_table()])
            log(f"dropping {len(dropped)} secondary indexes for the load (rebuilt afterwards)")
            _drop_indexes(dropped)
            with connection.cursor() as cur:
                cur.execute("SET LOCAL session_replication_role = replica")  # no per-row FK triggers
        with connection.cursor() as cur:
            cur.execute("SET LOCAL synchronous_commit = off")
        done = 0
        for data in _produce(gen, generated, chunk, end):
            for name, text in data.items():
                if not text:
                    continue
                model, columns = TABLES[name]
                with connection.cursor() as cur, cur.copy(f"COPY {_table(model)} ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                    copy.write(text.encode())
                rows[name] += text.count("\n")
            done = min(done + chunk, generated)
            elapsed = time.monotonic() - began
            total_rows = sum(rows.values())
            eta = elapsed / done * (generated - done)
            log(
                f"{done:>12,} tickets  {total_rows:>13,} rows  {total_rows / elapsed:>9,.0f} rows/s  "
                f"{done / elapsed:>7,.0f} tickets/s  ETA {timedelta(seconds=int(eta))}"
            )
        if copies > 1:
            log(f"copying: {copies - 1} more of each generated row")
            _replicate(ids, gen.ids, copies, log)
            rows = {name: n * copies for name, n in rows.items()}
            gen.stats = {key: [n * copies for n in row] for key, row in gen.stats.items()}
        if rebuild:
            with connection.cursor() as cur:
                cur.execute("SET LOCAL session_replication_role = origin")
                # The load ran with triggers off: the search table (migration 0019) and the reference
                # stamp (0018) get what their triggers would have written.
                if _search_table():
                    cur.execute(
                        "INSERT INTO tickets_ticketsearch (ticket_id, doc) "
                        "SELECT id, concat_ws(chr(31), title, text, citizen_address) FROM tickets_ticket "
                        "WHERE id >= %s ON CONFLICT (ticket_id) DO NOTHING",
                        [ids.ticket],
                    )
                cur.execute("UPDATE tickets_unit SET id = id WHERE false")  # fires the stamp's trigger
            log("building indexes")
            _create_indexes(dropped, log)
        _advance_sequences()
        _save_numbers(gen.numbers)
        stat_rows = _save_stats(gen.stats)
    # Statistics for the new rows also when the indexes stayed (a 100k load kept the estimates of an
    # empty table: 1,855 events per ticket, a parallel plan for a detail's history).
    with connection.cursor() as cur:
        for table in [*tables, *_search_table()]:
            cur.execute(f"ANALYZE {table}")
    seconds = time.monotonic() - began
    log(f"done: {rows} in {seconds:.0f} s; {stat_rows:,} unit-day counter rows added")
    return Result(tickets=tickets, rows=rows, seconds=seconds, stat_rows=stat_rows)


def _produce(gen: Generator, tickets: int, chunk: int, now: int) -> Iterator[dict[str, str]]:
    """Generate the next chunk in a thread while the caller streams the current one to the server."""
    chunks: queue.Queue[dict[str, str] | BaseException | None] = queue.Queue(maxsize=2)

    def work() -> None:
        try:
            for first in range(0, tickets, chunk):
                chunks.put(gen.chunk(first, min(chunk, tickets - first), now))
            chunks.put(None)
        except BaseException as exc:  # handed to the consumer, which raises it
            chunks.put(exc)

    thread = threading.Thread(target=work, name="seed_bulk-generator", daemon=True)
    thread.start()
    while True:
        item = chunks.get()
        if item is None:
            break
        if isinstance(item, BaseException):
            raise item
        yield item
    thread.join()
