"""What the citizen is told by SMS, and when: received (受理), dispatched (转办), answered at intake
(直接答复: the answer itself), ended without dispatch (不予派单: the outcome and its reason), the
deadline moved by an approved extension (延期告知), rating request (回访评价).

Called from the services that make those changes, inside their transaction: the message row is
written with the change and sent after commit (see `tickets.messaging.services.sms`). A number that sent
TD / 退订 gets a `suppressed` row instead of a message.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.conf import settings

from tickets.core import privacy
from tickets.core.models import Channel, Outcome, Ticket
from tickets.messaging.models import SmsMessage, SmsPurpose
from tickets.messaging.services import sms
from tickets.org.models import Unit
from tickets.sla.deadlines import SHANGHAI

SIGNATURE = "【12345热线】"
OPT_OUT_HINT = "回复TD退订"
EXTENSION_REASON_MAX = 40  # characters of the unit's reason: the notice stays within two SMS parts


def status_url() -> str:
    return f"{settings.HOTLINE_PUBLIC_URL}/citizen/status/"


def received_text(ticket: Ticket) -> str:
    if ticket.state == "draft":
        lead = f"已收到您的诉求，工单号{ticket.number}，话务员将尽快处理。"
    elif (unit := _dispatched_unit(ticket)) is not None:
        lead = f"您的诉求已受理，工单号{ticket.number}，已转交{unit.name}办理，请保持电话畅通。"
    else:
        lead = f"您的诉求已受理，工单号{ticket.number}。"
    return f"{SIGNATURE}{lead}回复“查询 {ticket.number}”或访问 {status_url()} 查询办理进度。{OPT_OUT_HINT}"


def _dispatched_unit(ticket: Ticket) -> Unit | None:
    """The lead unit when the ticket was dispatched as it was taken (before the notice)."""
    return ticket.lead_unit if ticket.state == "in_progress" and ticket.lead_unit_id else None


def ticket_received(*, ticket: Ticket) -> SmsMessage | None:
    """受理告知 (naming the unit when the intake dispatched the ticket at once).

    The SMS channel answers in its own TwiML reply, so it gets no second 受理 message; only the
    转办 notice, should its ticket have been dispatched as it was taken.
    """
    if not ticket.citizen_phone:
        return None
    if ticket.channel == Channel.SMS:
        unit = _dispatched_unit(ticket)
        return ticket_dispatched(ticket=ticket, lead_unit=unit) if unit is not None else None
    return sms.sms_enqueue(
        to=ticket.citizen_phone, body=received_text(ticket), purpose=SmsPurpose.RECEIVED, ticket=ticket
    )


def tickets_received(*, tickets: Sequence[Ticket]) -> list[SmsMessage]:
    """`ticket_received` for the routing worker's batch: the same messages, one INSERT."""
    messages: list[tuple[str, str, str, Ticket | None]] = []
    for ticket in tickets:
        if not ticket.citizen_phone:
            continue
        if ticket.channel == Channel.SMS:
            if (unit := _dispatched_unit(ticket)) is not None:
                messages.append((ticket.citizen_phone, dispatched_text(ticket, unit), SmsPurpose.DISPATCHED, ticket))
            continue
        messages.append((ticket.citizen_phone, received_text(ticket), SmsPurpose.RECEIVED, ticket))
    return sms.sms_enqueue_many(messages)


def dispatched_text(ticket: Ticket, lead_unit: Unit) -> str:
    return f"{SIGNATURE}您的工单{ticket.number}已转交{lead_unit.name}办理，请保持电话畅通。{OPT_OUT_HINT}"


def ticket_dispatched(*, ticket: Ticket, lead_unit: Unit) -> SmsMessage | None:
    """转办告知: which unit now handles the matter."""
    if not ticket.citizen_phone:
        return None
    body = dispatched_text(ticket, lead_unit)
    return sms.sms_enqueue(to=ticket.citizen_phone, body=body, purpose=SmsPurpose.DISPATCHED, ticket=ticket)


def ticket_answered(*, ticket: Ticket, answer: str) -> SmsMessage | None:
    """直接答复: the caller receives the answer the operator gave from the knowledge base, in writing."""
    if not ticket.citizen_phone or not answer.strip():
        return None
    body = f"{SIGNATURE}您咨询的事项（工单号{ticket.number}）答复如下：{answer.strip()}{OPT_OUT_HINT}"
    return sms.sms_enqueue(to=ticket.citizen_phone, body=body, purpose=SmsPurpose.ANSWER, ticket=ticket)


def out_of_scope_text(ticket: Ticket, outcome: str, reason: str) -> str:
    reason = reason.strip().rstrip("。")
    if outcome == Outcome.LAWFUL_CHANNEL:
        lead = f"您反映的事项（工单号{ticket.number}）依法应通过其他途径办理：{reason}。"
    elif outcome == Outcome.NOT_ACCEPTED:
        lead = f"您反映的事项（工单号{ticket.number}）不予受理，原因：{reason}。"
    else:  # 转110/119/120/122
        lead = f"您反映的紧急情况（工单号{ticket.number}）已{Outcome(outcome).label}处理：{reason}。"
    return f"{SIGNATURE}{lead}{OPT_OUT_HINT}"


def ticket_out_of_scope(*, ticket: Ticket, outcome: str, reason: str) -> SmsMessage | None:
    """不予派单告知: the lawful channel, why it is not accepted, or the emergency hand-over, in writing.
    A call recorded as 恶意来电 gets nothing."""
    if not ticket.citizen_phone or outcome == Outcome.ABUSE:
        return None
    body = out_of_scope_text(ticket, outcome, reason)
    return sms.sms_enqueue(to=ticket.citizen_phone, body=body, purpose=SmsPurpose.OTHER, ticket=ticket)


def ticket_merged(*, child: Ticket, master: Ticket) -> SmsMessage | None:
    """并单告知: the citizen's ticket is handled together with an earlier one about the same matter."""
    if not child.citizen_phone:
        return None
    body = (
        f"{SIGNATURE}您反映的诉求（工单号{child.number}）与工单{master.number}为同一事项，已合并办理，"
        f"办理结果将一并告知您。可访问 {status_url()} 查询。{OPT_OUT_HINT}"
    )
    return sms.sms_enqueue(to=child.citizen_phone, body=body, purpose=SmsPurpose.OTHER, ticket=child)


def ticket_unmerged(*, child: Ticket) -> SmsMessage | None:
    """取消并单告知: the citizen's ticket is handled on its own again."""
    if not child.citizen_phone:
        return None
    body = (
        f"{SIGNATURE}经核实，您的工单{child.number}与此前合并的工单并非同一事项，已恢复单独办理，"
        f"请保持电话畅通。可访问 {status_url()} 查询。{OPT_OUT_HINT}"
    )
    return sms.sms_enqueue(to=child.citizen_phone, body=body, purpose=SmsPurpose.OTHER, ticket=child)


def deadline_text(moment: datetime) -> str:
    """A deadline as the notices write it (督办/催办 too): 2025年11月17日 23:59, Asia/Shanghai."""
    local = moment.astimezone(SHANGHAI)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def extension_reason_text(ticket: Ticket, reason: str) -> str:
    """The unit's reason as the citizen reads it: one line, short.

    The unit wrote it for the centre, and it has never reached a citizen before (the status page
    says only that the extension was approved), so it is cut as for a reader outside the centre
    (`privacy.citizen_text`): resident ID numbers blanked, the citizen's number masked, and on a
    保密/匿名 ticket their name and address blanked too (an SMS may be read by whoever holds the phone).
    Cut before shortening, so a shortened ID number cannot slip past the rule.
    """
    text = " ".join(privacy.citizen_text(reason, ticket, None).split()).rstrip("。")
    return text if len(text) <= EXTENSION_REASON_MAX else text[: EXTENSION_REASON_MAX - 1] + "…"


def extended_text(ticket: Ticket, due_at: datetime, reason: str) -> str:
    why = extension_reason_text(ticket, reason)
    because = f"延期原因：{why}。" if why else ""
    return (
        f"{SIGNATURE}您的工单{ticket.number}经热线中心同意延期办理，办结时限延至{deadline_text(due_at)}。"
        f"{because}{OPT_OUT_HINT}"
    )


def ticket_extended(*, ticket: Ticket, due_at: datetime | None, reason: str) -> SmsMessage | None:
    """延期告知: the centre approved the lead unit's extension, so the matter has a new 办结时限.

    Only the ticket's own 主办 deadline is the citizen's (the reaction checks it); a 协办 or 下派
    assignment's extension stays between the centre and the units.
    """
    if not ticket.citizen_phone or due_at is None:
        return None
    body = extended_text(ticket, due_at, reason)
    return sms.sms_enqueue(to=ticket.citizen_phone, body=body, purpose=SmsPurpose.OTHER, ticket=ticket)
