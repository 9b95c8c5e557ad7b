"""What a citizen (or a partner system) may read about a ticket: the public part of its history.

Internal steps (who signed, returns between units, supervision notes) stay internal; the unit's
reply is shown only once the centre accepted it (审核通过).
"""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from tickets.core.models import Assignment, Outcome, Ticket, top_lead_q
from tickets.core.states import ENDED_TICKET_STATES, TicketState
from tickets.org.models import Unit

REPLY_VISIBLE = {TicketState.REVIEWED, TicketState.RATING, TicketState.CLOSED}


class PublicEvent(TypedDict):
    at: datetime
    text: str


def _unit_names(codes: set[str]) -> dict[str, str]:
    return dict(Unit.objects.filter(code__in=codes).values_list("code", "name"))


def public_history(ticket: Ticket) -> list[PublicEvent]:
    events = list(ticket.events.order_by("id").only("action", "data", "reason", "created_at"))
    names = _unit_names({str(e.data.get("lead_unit")) for e in events if e.action == "dispatch"})
    out: list[PublicEvent] = []
    after_dissatisfied = False  # the close that follows a 不满意 is not the end: a supervisor reviews it
    for event in events:
        text = ""
        data = event.data or {}
        if event.action == "created":
            text = "已收到您的诉求" if ticket.channel in ("phone", "sms") else "诉求已受理"
        elif event.action == "complete_draft":
            text = "诉求已受理"
        elif event.action == "message_appended":
            text = "您补充了诉求内容"
        elif event.action == "dispatch":
            text = f"已转交{names.get(str(data.get('lead_unit')), '承办单位')}办理"
        elif event.action == "approve_extension":
            text = "承办单位申请延期办理，热线中心已同意"
        elif event.action == "review_accept":
            text = "承办单位已办结，热线中心审核通过"
        elif event.action == "request_rating":
            text = "等待您对办理结果进行评价"
        elif event.action == "rated":
            after_dissatisfied = data.get("satisfaction") == "dissatisfied"
            text = "您已评价：不满意，您的意见已转交督办人员审核" if after_dissatisfied else "您已评价"
        elif event.action == "close":
            text = "" if after_dissatisfied else "工单已办结"
        elif event.action == "dissatisfaction_closed":
            text = "督办人员已核查您的不满意意见，工单办结"
        elif event.action == "reopen":
            text = "重新交办承办单位办理"
        elif event.action == "answer_directly":
            text = f"已直接答复：{event.reason}"
        elif event.action == "mark_out_of_scope":
            text = f"{Outcome(data.get('outcome', Outcome.NOT_ACCEPTED)).label}：{event.reason}"
        elif event.action == "merge":
            text = "已与相同诉求合并办理"
        if text:
            out.append(PublicEvent(at=event.created_at, text=text))
    return out


def public_reply(ticket: Ticket) -> str:
    """The lead unit's accepted reply (办理结果), or "" while it is not yet accepted."""
    if ticket.state not in REPLY_VISIBLE:
        return ""
    lead = (
        Assignment.objects.filter(top_lead_q(), ticket=ticket).exclude(reply_text="").order_by("-round", "-id").first()
    )
    return lead.reply_text if lead else ""


def is_open(ticket: Ticket) -> bool:
    return ticket.state not in ENDED_TICKET_STATES
