"""Tickets, assignments (ticket × unit) and the append-only event history."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tickets.core.states import AssignmentState, TicketState


class Channel(models.TextChoices):
    PHONE = "phone", "电话"
    SMS = "sms", "短信"
    WEB = "web", "网站"
    APP = "app", "移动端"
    PARTNER = "partner", "合作系统"
    OPEN311 = "open311", "Open311"


class Kind(models.TextChoices):
    CONSULT = "consult", "咨询"
    HELP = "help", "求助"
    COMPLAINT = "complaint", "投诉"
    REPORT = "report", "举报"
    SUGGESTION = "suggestion", "建议"
    PRAISE = "praise", "表扬"
    OTHER = "other", "其他"


class Urgency(models.TextChoices):
    NORMAL = "normal", "一般"
    URGENT = "urgent", "紧急"
    CRITICAL = "critical", "特急"


class Outcome(models.TextChoices):
    """How a ticket ended (domain.md §3), recorded with a reason."""

    RESOLVED = "resolved", "已办结"
    UNRATED = "unrated", "未评价办结"
    DIRECT_ANSWER = "direct_answer", "直接答复"
    EMERGENCY_110 = "emergency_110", "转110"
    EMERGENCY_119 = "emergency_119", "转119"
    EMERGENCY_120 = "emergency_120", "转120"
    EMERGENCY_122 = "emergency_122", "转122"
    LAWFUL_CHANNEL = "lawful_channel", "告知途径"
    NOT_ACCEPTED = "not_accepted", "不予受理"
    ABUSE = "abuse", "恶意来电"
    MERGED = "merged", "并单"


OUT_OF_SCOPE_OUTCOMES = frozenset(
    {
        Outcome.EMERGENCY_110,
        Outcome.EMERGENCY_119,
        Outcome.EMERGENCY_120,
        Outcome.EMERGENCY_122,
        Outcome.LAWFUL_CHANNEL,
        Outcome.NOT_ACCEPTED,
        Outcome.ABUSE,
    }
)


class RouteState(models.TextChoices):
    """Where an accepted ticket stands with 按责转办 routing (the routing queue the database holds)."""

    DONE = "", "—"  # routed, or never to be routed automatically (a draft, an operator's own choice)
    PENDING = "pending", "分派中"  # waits for the routing worker; the citizen has not been told yet
    TOLD = "told", "分派中（已告知受理）"  # waits still; the 受理 SMS went out without the unit


class ReferenceStamp(models.Model):
    """One row: a stamp that changes whenever any reference table changes (units, categories,
    routing rules and their 协办 units, city profiles, SLA policies), by any path. Database
    triggers (migration 0018) write it; `tickets.core.memo` keeps reference reads per process for as
    long as it stays the same. The value comes from a sequence (random on SQLite), never from
    counting, so a change rolled back can never bring an old stamp back with other data under it."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    value = models.BigIntegerField()

    def __str__(self) -> str:
        return str(self.value)


class TicketNumberSequence(models.Model):
    """One row per local day; the ticket number is YYYYMMDD + the day's 6-digit sequence."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}:{self.last}"


class Ticket(models.Model):
    number = models.CharField("工单号", max_length=16, unique=True)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.HELP)
    urgency = models.CharField(max_length=16, choices=Urgency.choices, default=Urgency.NORMAL)
    title = models.CharField(max_length=200, blank=True)
    text = models.TextField()
    citizen_name = models.CharField(max_length=64, blank=True)
    citizen_phone = models.CharField(max_length=20, blank=True, help_text="国际格式号码，如 +8613812341234")
    citizen_address = models.CharField(max_length=255, blank=True)
    confidential = models.BooleanField("保密", default=False)
    anonymous = models.BooleanField("匿名", default=False)
    jurisdiction = models.ForeignKey("tickets.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # No index of its own: `ticket_category_id` leads with it (one index less to write per insert and update).
    category = models.ForeignKey(
        "tickets.Category", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    state = models.CharField(max_length=20, choices=TicketState.choices, default=TicketState.REGISTERED)
    lead_unit = models.ForeignKey(
        "tickets.Unit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="当前主办单位（冗余字段，便于列表筛选）",
        db_index=False,  # `ticket_lead_state_id` leads with it
    )
    due_at = models.DateTimeField("总办结时限", null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_children"
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    outcome_reason = models.TextField(blank=True)
    reopen_count = models.PositiveSmallIntegerField(default=0)
    units_passed = models.PositiveSmallIntegerField(default=0, help_text="退单后经手的主办单位数")
    is_problem = models.BooleanField("问题工单", default=False)
    is_flagged = models.BooleanField("挂牌督办", default=False)
    classification = models.JSONField(null=True, blank=True, help_text="分类器建议（前 k 项、概率、模型版本）")
    category_source = models.CharField(
        max_length=12, blank=True, choices=[("human", "人工"), ("classifier", "分类器")], help_text="分类由谁确定"
    )
    external_ref = models.CharField(max_length=64, blank=True, help_text="来电、短信或合作系统的编号")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # db_default too: rows written without the ORM (seed_bulk's COPY, an operator's SQL) are routed already.
    route_state = models.CharField(
        "自动分派",
        max_length=8,
        choices=RouteState.choices,
        blank=True,
        default=RouteState.DONE,
        db_default=RouteState.DONE,
    )

    class Meta:
        ordering = ["-id"]
        indexes = [
            # The routing queue: accepted tickets the router has not yet claimed (a few rows at most).
            models.Index(fields=["id"], name="ticket_route_pending", condition=~models.Q(route_state="")),
            models.Index(fields=["state", "-id"], name="ticket_state_id"),
            models.Index(fields=["lead_unit", "state", "-id"], name="ticket_lead_state_id"),
            models.Index(fields=["category", "-id"], name="ticket_category_id"),
            models.Index(fields=["citizen_phone", "-id"], name="ticket_phone_id"),
            models.Index(fields=["created_at"], name="ticket_created"),
            # Open tickets by deadline; with the ids, so the overdue filter's id set (selectors.IdAmong) is
            # read from the index alone. (A second index on the same key without the ids was dropped: every
            # intake and routing update wrote both.)
            models.Index(
                fields=["due_at"], include=["id"], name="ticket_due_open_id", condition=models.Q(closed_at__isnull=True)
            ),
            models.Index(fields=["external_ref"], name="ticket_external_ref", condition=~models.Q(external_ref="")),
            # Supervisor lists "overdue in category X": the open tickets of a category by deadline, with the
            # ids, so the overdue filter's id set of a category is read from the index alone.
            models.Index(
                fields=["category", "due_at"],
                include=["id"],
                name="ticket_category_due_open_id",
                condition=models.Q(closed_at__isnull=True),
            ),
            # 工单查询's 挂牌督办 / 问题工单 filters, newest first: rows only for the few tickets flagged,
            # so a page of them is read from the index at any table size and an accept writes neither.
            models.Index(fields=["-id"], name="ticket_flagged_id", condition=models.Q(is_flagged=True)),
            models.Index(fields=["-id"], name="ticket_problem_id", condition=models.Q(is_problem=True)),
        ]

    def __str__(self) -> str:
        return self.number


class AssignmentRole(models.TextChoices):
    LEAD = "lead", "主办"
    ASSIST = "assist", "协办"


def top_lead_q(prefix: str = "") -> models.Q:
    """The ticket's top-level lead (主办) assignments: not 协办, not a 下派 child of another assignment.

    `prefix` reaches them through a relation, e.g. `top_lead_q("assignment__")` on TicketEvent.
    """
    return models.Q(**{f"{prefix}role": AssignmentRole.LEAD, f"{prefix}parent__isnull": True})


class Assignment(models.Model):
    """One ticket × one unit, with its own clocks (签收 and 办结 deadlines)."""

    # Neither has an index of its own: `asg_ticket_state` and `asg_unit_state` lead with them.
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="assignments", db_index=False)
    unit = models.ForeignKey("tickets.Unit", on_delete=models.PROTECT, related_name="assignments", db_index=False)
    # Copy of unit.path: "assignments of this unit or its descendants" is an indexed prefix match.
    unit_path = models.CharField(max_length=255)
    role = models.CharField(max_length=8, choices=AssignmentRole.choices, default=AssignmentRole.LEAD)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    state = models.CharField(max_length=24, choices=AssignmentState.choices, default=AssignmentState.PENDING_SIGN)
    state_before_request = models.CharField(max_length=24, blank=True)
    round = models.PositiveSmallIntegerField(default=1, help_text="第几轮办理（重办加一）")
    dispatched_at = models.DateTimeField()
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sign_due_at = models.DateTimeField(null=True, blank=True)
    reply_due_at = models.DateTimeField(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    reply_text = models.TextField(blank=True)
    return_reason = models.TextField(blank=True)
    return_legal_basis = models.CharField(max_length=255, blank=True)
    extension_until = models.DateTimeField(null=True, blank=True)
    extension_reason = models.TextField(blank=True)
    extension_count = models.PositiveSmallIntegerField(default=0)
    # Frozen on-time verdicts: set when the clock stops, never recomputed.
    sign_on_time = models.BooleanField(null=True, blank=True)
    reply_on_time = models.BooleanField(null=True, blank=True)
    note = models.TextField(blank=True, help_text="派单说明")
    sla_policy = models.ForeignKey(
        "tickets.SlaPolicy", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # 日历缺失: the deadline reaches into a year with no calendar data; filled in on import.
    calendar_gap_year = models.PositiveSmallIntegerField(null=True, blank=True)
    # 统一督办 (tickets.sla.services.clock / sla_scanner): when each level is due, and when it fired.
    # A level fires once: the scanner flips its marker with a guarded update (… AND <marker> IS NULL).
    # When the reply deadline moves (延期, pause) the due moments are recomputed and the markers reset.
    warn_at = models.DateTimeField("催办时间", null=True, blank=True)
    supervise_at = models.DateTimeField("督办时间", null=True, blank=True)
    notice_at = models.DateTimeField("通报时间", null=True, blank=True)
    sign_warned_at = models.DateTimeField("已催签收", null=True, blank=True)
    warned_at = models.DateTimeField("已催办", null=True, blank=True)
    supervised_at = models.DateTimeField("已督办", null=True, blank=True)
    noticed_at = models.DateTimeField("已通报", null=True, blank=True)
    # 暂停计时: waiting for the citizen (补充材料); no level fires while paused.
    clock_paused_at = models.DateTimeField("暂停计时于", null=True, blank=True)
    paused_seconds = models.PositiveIntegerField("累计暂停秒数", default=0)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["unit", "state"], name="asg_unit_state"),
            models.Index(fields=["ticket", "state"], name="asg_ticket_state"),
            # The unit-scope probe of every unit list (selectors.assigned_under) reads only this index.
            models.Index(fields=["ticket", "unit_path"], name="asg_ticket_unit_path"),
            # A unit's inbox: its open assignments, nearest deadline first, in index order.
            models.Index(
                fields=["unit", "reply_due_at", "id"],
                name="asg_unit_open_due",
                condition=models.Q(state__in=["pending_sign", "signed", "return_requested", "extension_requested"]),
            ),
            # A narrow scope's ticket ids (selectors.assigned_under → IdAmong), read from the index alone.
            models.Index(
                fields=["unit_path"], include=["ticket"], name="asg_unit_path_ticket", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(fields=["reply_due_at"], name="asg_reply_due_open", condition=models.Q(ended_at__isnull=True)),
            models.Index(fields=["sign_due_at"], name="asg_sign_due_pending", condition=models.Q(state="pending_sign")),
            # The scanner's work queues: a row leaves its index once the level fired or the assignment ended.
            models.Index(
                fields=["sign_due_at"],
                name="asg_sign_warn_todo",
                condition=models.Q(state="pending_sign", sign_warned_at__isnull=True),
            ),
            models.Index(
                fields=["warn_at"],
                name="asg_warn_todo",
                condition=models.Q(ended_at__isnull=True, warned_at__isnull=True),
            ),
            models.Index(
                fields=["supervise_at"],
                name="asg_supervise_todo",
                condition=models.Q(ended_at__isnull=True, supervised_at__isnull=True),
            ),
            models.Index(
                fields=["notice_at"],
                name="asg_notice_todo",
                condition=models.Q(ended_at__isnull=True, noticed_at__isnull=True),
            ),
            models.Index(
                fields=["calendar_gap_year"],
                name="asg_calendar_gap",
                condition=models.Q(calendar_gap_year__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}→{self.unit_id}({self.state})"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    @property
    def is_top_lead(self) -> bool:
        """The ticket's own 主办 assignment (see `top_lead_q`): its deadline is the ticket's."""
        return self.role == AssignmentRole.LEAD and self.parent_id is None


class ActorKind(models.TextChoices):
    USER = "user", "用户"
    CLASSIFIER = "classifier", "分类器"
    SCHEDULER = "scheduler", "定时任务"
    CITIZEN = "citizen", "市民"
    SYSTEM = "system", "系统"


class TicketEvent(models.Model):
    """Append-only history: who, when, from, to, why, data. Nothing is updated or deleted.

    The id doubles as the live feed's cursor (monotonically increasing).
    """

    # No index of its own: `event_ticket_id` leads with it.
    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="events", db_index=False)
    assignment = models.ForeignKey(Assignment, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    actor_kind = models.CharField(max_length=12, choices=ActorKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=40)
    from_state = models.CharField(max_length=24, blank=True)
    to_state = models.CharField(max_length=24, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["ticket", "id"], name="event_ticket_id")]

    def __str__(self) -> str:
        return f"{self.ticket_id}:{self.action}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise RuntimeError("TicketEvent is append-only")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise RuntimeError("TicketEvent is append-only")


class AccessAction(models.TextChoices):
    VIEW = "view", "查看"
    REVEAL_PHONE = "reveal_phone", "查看完整号码"
    EXPORT = "export", "导出"
    LISTEN = "listen", "收听录音"
    VIEW_ATTACHMENT = "view_attachment", "查看附件"
    PRINT = "print", "打印"


class TicketAccessLog(models.Model):
    """Who viewed, revealed or exported a ticket (domain.md §7)."""

    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.PROTECT, related_name="access_logs", db_index=False
    )  # access_ticket_id leads with it
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=16, choices=AccessAction.choices)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["ticket", "-id"], name="access_ticket_id")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.action} {self.ticket_id}"
