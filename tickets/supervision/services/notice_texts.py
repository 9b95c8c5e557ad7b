"""督办通知的文字: each level's notice is an admin-editable Django template (NoticeTemplate)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from django.template import Context, Template

from tickets.sla.deadlines import SHANGHAI
from tickets.supervision.models import NoticeTemplate, SupervisionLevel

#: Seeded into NoticeTemplate on first use; admins change the rows, never this dict.
DEFAULT_NOTICES: dict[str, str] = {
    SupervisionLevel.SIGN_REMINDER: (
        "【12345催办】{{ unit_name }}：工单{{ ticket_number }}（{{ ticket_title }}）的签收时限为{{ due_at }}，"
        "现已超时未签收，请立即签收办理。"
    ),
    SupervisionLevel.REMINDER: (
        "【12345催办】{{ unit_name }}：工单{{ ticket_number }}（{{ ticket_title }}）将于{{ due_at }}到期，"
        "请抓紧办理并按时答复。"
    ),
    SupervisionLevel.SUPERVISION: (
        "【12345督办】{{ unit_name }}：工单{{ ticket_number }}（{{ ticket_title }}）已超过办结时限（{{ due_at }}），"
        "现予督办，请立即办结答复并说明逾期原因。"
    ),
    SupervisionLevel.PUBLIC_NOTICE: (
        "【12345通报】{{ unit_name }}：工单{{ ticket_number }}（{{ ticket_title }}）办结时限为{{ due_at }}，"
        "经督办后{% if overdue_days %}逾期{{ overdue_days }}天{% else %}当日{% endif %}仍未办结，予以通报。"
    ),
    SupervisionLevel.MANUAL: (
        "【12345督办】{{ unit_name }}：请重视并加快办理工单{{ ticket_number }}（{{ ticket_title }}）。"
        "{% if note %}督办意见：{{ note }}{% endif %}{% if due_at %}（办结时限{{ due_at }}）{% endif %}"
    ),
    SupervisionLevel.FLAGGED: (
        "【12345挂牌督办】{{ unit_name }}：工单{{ ticket_number }}（{{ ticket_title }}）已被挂牌督办。"
        "{% if note %}督办意见：{{ note }}。{% endif %}请单位负责同志亲自督办，限期办结。"
    ),
    SupervisionLevel.ESCALATED: (
        "【12345提级督办】{{ unit_name }}：工单{{ ticket_number }}（{{ ticket_title }}）{{ note }}，"
        "已列为问题工单提级督办。"
    ),
}


def notice_templates_ensure() -> None:
    """Seed the default template of every level that has no row yet (idempotent)."""
    have = set(NoticeTemplate.objects.values_list("level", flat=True))
    missing = [NoticeTemplate(level=level, body=body) for level, body in DEFAULT_NOTICES.items() if level not in have]
    if missing:
        NoticeTemplate.objects.bulk_create(missing, ignore_conflicts=True)


def notice_templates() -> dict[str, str]:
    """The current text of each level's template (rows override the defaults)."""
    notice_templates_ensure()
    return {**DEFAULT_NOTICES, **dict(NoticeTemplate.objects.values_list("level", "body"))}


@lru_cache(maxsize=64)
def _compiled(body: str) -> Template:
    return Template(body)


def local_text(moment: datetime | None) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(SHANGHAI)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def notice_render(
    *,
    body: str,
    level: str,
    ticket_number: str,
    ticket_title: str,
    unit_name: str = "",
    due_at: datetime | None = None,
    now: datetime | None = None,
    note: str = "",
    clock: str = "",
    round_no: int | None = None,
) -> str:
    """Fill a template; SMS text, so no HTML escaping. Takes plain values so the scanner need
    not load model instances for thousands of rows."""
    overdue_days = 0
    if due_at is not None and now is not None and now > due_at:
        overdue_days = (now.astimezone(SHANGHAI).date() - due_at.astimezone(SHANGHAI).date()).days
    context: dict[str, Any] = {
        "ticket_number": ticket_number,
        "ticket_title": ticket_title,
        "unit_name": unit_name,
        "level_label": SupervisionLevel(level).label,
        "clock_label": {"sign": "签收", "reply": "办结"}.get(clock, ""),
        "due_at": local_text(due_at),
        "overdue_days": overdue_days,
        "note": note,
        "round": round_no,
    }
    return _compiled(body).render(Context(context, autoescape=False)).strip()
