"""A ticket's history as a civil servant reads it: the one label table for every event the system
records, people's names and units instead of login names, and no classifier jargon.

Every page that shows history (the ticket page, its printed sheet) goes through `history_rows`.
A code with no label here falls back to 其他操作, never to the code itself; tests/ui/test_must_show.py
records every action the services write and fails when one is missing from the table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tickets.core import privacy
from tickets.core.models import ActorKind, Ticket, TicketEvent
from tickets.core.states import ASSIGNMENT_TRANSITIONS, TICKET_TRANSITIONS, AssignmentState, TicketState
from tickets.feedback.models import Cause, Satisfaction
from tickets.org.models import Role, User
from tickets.routing.services import classification
from tickets.supervision.models import SupervisionLevel

# Events that are not state transitions (the transitions carry their own Chinese label in states.py).
EVENT_LABELS: Mapping[str, Any] = {
    "created": gettext_lazy("受理"),
    "jurisdiction_found": gettext_lazy("识别属地"),
    "classified": gettext_lazy("智能分类"),
    "category_changed": gettext_lazy("人工修改分类"),
    "category_confirmed": gettext_lazy("确认智能分类"),
    "assignment_created": gettext_lazy("派单至单位"),
    "phone_revealed": gettext_lazy("查看完整号码"),
    "message_appended": gettext_lazy("市民补充内容"),
    "child_merged": gettext_lazy("其他工单并入本单"),
    "child_unmerged": gettext_lazy("并入的工单已取消并单"),
    "master_closed": gettext_lazy("主工单已办结，本单随之办结"),
    "duplicate_confirmed": gettext_lazy("确认为重复诉求"),
    "rated": gettext_lazy("市民评价"),
    "rating_requested": gettext_lazy("已请市民评价"),
    "rating_completed": gettext_lazy("市民补充评价答复"),
    "rating_reason_added": gettext_lazy("市民补充不满意原因"),
    "callback_scheduled": gettext_lazy("已安排回访"),
    "callback_unreached": gettext_lazy("回访未接通"),
    "dissatisfaction_closed": gettext_lazy("不满意经审核说明办结"),
    "escalated_problem": gettext_lazy("列为问题工单，提级督办"),
    "clock_paused": gettext_lazy("暂停计时（等待市民补充材料）"),
    "clock_resumed": gettext_lazy("恢复计时"),
    "kb_proposed": gettext_lazy("承办单位提议更新知识库"),
    "kb_proposal_decided": gettext_lazy("知识库提议已审定"),
    "hotspot.surge": gettext_lazy("热点激增告警"),
    "sla.calendar_gap": gettext_lazy("时限无法计算：缺少该年度工作日历"),
    "sla.deadline_filled": gettext_lazy("补全工作日历后重新计算时限"),
    "sla.warning": gettext_lazy("临近时限，催办"),
    "sla.overdue": gettext_lazy("超过时限，督办"),
    "supervision.issued": gettext_lazy("督办通知"),
    "supervision.unflagged": gettext_lazy("撤销挂牌督办（摘牌）"),
    "note_added": gettext_lazy("添加内部备注"),
    "attachment_added": gettext_lazy("上传附件"),
}

# What the automatic actors are called (their stored labels are version strings and job names).
MACHINE_LABELS: Mapping[str, Any] = {
    ActorKind.CLASSIFIER: gettext_lazy("智能分类"),
    ActorKind.SCHEDULER: gettext_lazy("系统定时任务"),
    ActorKind.SYSTEM: gettext_lazy("系统"),
}

_TRANSITION_LABELS = {name: t.label for name, t in {**ASSIGNMENT_TRANSITIONS, **TICKET_TRANSITIONS}.items()}
_STATE_LABELS = {**dict(AssignmentState.choices), **dict(TicketState.choices)}


def event_label(action: str, data: Mapping[str, Any] | None = None) -> str:
    """The Chinese name of an event; supervision events say which level (催办/督办/通报/挂牌)."""
    data = data or {}
    level = str(data.get("level") or "")
    if action in ("supervision.issued", "sla.overdue", "sla.warning") and level in SupervisionLevel.values:
        return str(SupervisionLevel(level).label)
    label = _TRANSITION_LABELS.get(action) or EVENT_LABELS.get(action)
    return str(label) if label is not None else _("其他操作")


def person_label(user: User | None) -> str:
    """A staff member as colleagues know them: 姓名（单位） or 姓名（岗位）; the login name only when
    no name was entered."""
    if user is None:
        return ""
    name = f"{user.last_name}{user.first_name}".strip() or user.get_username()
    unit = getattr(user, "unit", None)
    where = unit.name if unit is not None else Role(user.role).label
    return f"{name}（{where}）" if where else name


def actor_label(event: TicketEvent) -> str:
    """Who acted: a person's name and unit; 市民 for the citizen (through privacy.event_actor);
    the machine's plain name otherwise."""
    if event.actor_id and event.actor is not None:
        return person_label(event.actor)
    if event.actor_kind == ActorKind.CITIZEN:
        return privacy.event_actor(event)
    return str(MACHINE_LABELS.get(event.actor_kind, _("系统")))


def plain_percent(value: Any) -> str:
    try:
        return f"{round(float(value) * 100)}%"
    except (TypeError, ValueError):
        return "—"


def plain_reason(reason: str) -> str:
    """Older classifier reasons in words a civil servant reads without a statistics course."""
    return classification.LEGACY_UNSURE_REASON.sub(
        lambda m: classification.unsure_reason(float(m.group(1)), float(m.group(2))), reason
    )


def event_detail(event: TicketEvent) -> str:
    """One readable line of what the event's data says (never a raw key or code)."""
    data = event.data or {}
    action = event.action
    if action == "classified":
        suggestions = data.get("suggestions") or []
        if suggestions:
            top = suggestions[0]
            return _("最可能的分类：%(label)s（可信度 %(p)s）") % {
                "label": top.get("label", "—"),
                "p": plain_percent(top.get("probability")),
            }
        return _("智能分类无法判断，需人工选择分类")
    if action == "jurisdiction_found" and data.get("name"):
        return _("属地：%(name)s") % {"name": data["name"]}
    if action in ("merge", "master_closed", "unmerge") and data.get("master"):
        return _("主工单：%(n)s") % {"n": data["master"]}
    if action in ("child_merged", "child_unmerged") and data.get("child"):
        return _("相关工单：%(n)s") % {"n": data["child"]}
    if action == "duplicate_confirmed" and data.get("earlier"):
        return _("与工单 %(n)s 为同一事项") % {"n": data["earlier"]}
    if action == "rated":
        parts = []
        if data.get("satisfaction") in Satisfaction.values:
            parts.append(str(Satisfaction(data["satisfaction"]).label))
        if data.get("solved") is not None:
            parts.append(_("已解决") if data["solved"] else _("未解决"))
        if data.get("contacted") is not None:
            parts.append(_("单位已联系") if data["contacted"] else _("单位未联系"))
        if data.get("cause") in Cause.values and data.get("cause") != Cause.UNDETERMINED:
            parts.append(str(Cause(data["cause"]).label))
        return "，".join(parts)
    if action == "dissatisfaction_closed" and data.get("cause") in Cause.values:
        return str(Cause(data["cause"]).label)
    if action == "answer_directly" and data.get("confirm_kind"):  # a 投诉/举报 answered on purpose, not dispatched
        return _("投诉、举报类诉求：经确认直接答复，不转办")
    if action == "attachment_added" and data.get("count"):
        return _("%(count)s 个文件") % {"count": data["count"]}
    return ""


def history_rows(events: Iterable[TicketEvent], *, ticket: Ticket, reader: User) -> list[Any]:
    """History rows for a page: `action_label`, `state_label`, `actor_label`, `detail` and
    `reason_shown` (the reason as `tickets.core.privacy` lets this reader read it)."""
    rows = []
    for event in events:
        event.action_label = event_label(event.action, event.data)  # type: ignore[attr-defined]
        event.state_label = _STATE_LABELS.get(event.to_state, "")  # type: ignore[attr-defined]
        event.actor_label = actor_label(event)  # type: ignore[attr-defined]
        event.detail = privacy.citizen_text(event_detail(event), ticket, reader)  # type: ignore[attr-defined]
        event.reason_shown = privacy.citizen_text(plain_reason(event.reason), ticket, reader)  # type: ignore[attr-defined]
        rows.append(event)
    return rows
