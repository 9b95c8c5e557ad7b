"""短信受理: what a citizen's SMS does — file a matter, add to one, or run a command.

Commands: `查询 <工单号>` / `CX <工单号>` (status), `1`/`2`/`3` or 满意/基本满意/不满意 (rating, when
one is asked for; `3 <原因>` gives the reason at once), `TD` / `退订` (no more notifications), `KT` /
`开通` (again). The punctuation a short reply ends with ("退订。") does not hide a command.

评价 by SMS is a short exchange, because the 三率 count only complete answers (有效回访): after the
digit the reply asks for two more digits — did the unit contact you (1 yes / 2 no), is the matter
solved (1 yes / 2 no) — e.g. `11`, and after a 不满意 for the reason too, e.g. `22 至今无人联系`.
Within 24 hours of an SMS rating that still lacks them, such a reply completes the rating (and a
plain-text reply after a 不满意 without a reason is taken as the reason) instead of filing a new
matter. A 不满意 reaches the supervisors' review queue as 未判定 with the citizen's reason.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from tickets.core.actors import Actor
from tickets.core.models import Channel, Ticket
from tickets.core.states import TicketState, citizen_state_label
from tickets.core.text import normalise_text
from tickets.errors import DomainError, RateLimited
from tickets.feedback.models import Rating
from tickets.feedback.services import rating
from tickets.intake.models import InboundChannel, InboundMessage
from tickets.intake.services import intake
from tickets.messaging.services import citizen_notifications, sms
from tickets.sla.services import policy

SIG = citizen_notifications.SIGNATURE
OPT_OUT_WORDS = {"TD", "退订", "STOP", "UNSUBSCRIBE"}
OPT_IN_WORDS = {"KT", "开通", "START"}
# Punctuation a phone adds or a citizen ends a short reply with: "退订。", "TD!", "查询 2026…。".
_END = r"[\s。．.!！?？~～]*"
_QUERY = re.compile(rf"^(?:查询|CX)\s*[:：]?\s*(\d{{8,20}}){_END}$", re.IGNORECASE)
# A rating alone, or followed by a separator and the reason ("3 没人联系", "不满意，没人联系"). A digit
# glued to words ("1号楼漏水") or to another digit across a separator ("1.5公里外", "2、3号楼") is a new matter.
_RATING = re.compile(r"^([123])(?:$|[\s,，.。、:：;；!！]+(?!\d)(.*)$)", re.DOTALL)
_RATING_WORDS = {"非常满意": "1", "很满意": "1", "满意": "1", "基本满意": "2", "比较满意": "2"}
_RATING_WORDS |= {"不满意": "3", "很不满意": "3", "非常不满意": "3"}
_RATING_WORD = re.compile(
    "^(" + "|".join(sorted(_RATING_WORDS, key=len, reverse=True)) + r")[\s,，.。、:：;；!！]*(.*)$", re.DOTALL
)
# A courtesy in the middle of a rating exchange is not a new matter (the message itself is kept).
_THANKS = {"谢谢", "谢谢你", "谢谢您", "多谢", "感谢", "好的", "好", "收到", "嗯", "OK", "好的谢谢", "好的，谢谢"}
# The follow-up: contacted (1/2) and solved (1/2), optionally followed by the reason.
_FOLLOWUP = re.compile(r"^([12])\s*([12])(?:$|[\s,，.。、:：;；]+(.*)$)", re.DOTALL)
HELP = f"{SIG}请直接发送您的诉求内容（事项、地点）。查询进度请回复“查询 工单号”，回复TD退订。"


@dataclass(frozen=True)
class SmsOutcome:
    reply: str
    ticket: Ticket | None = None
    note: str = ""


def public_status(ticket: Ticket) -> str:
    """The citizen-facing line about a ticket: state, and the unit when it is with one."""
    label = citizen_state_label(ticket.state)
    unit = f"，承办单位：{ticket.lead_unit.name}" if ticket.lead_unit_id and ticket.lead_unit else ""
    return f"工单{ticket.number}当前状态：{label}{unit}。"


def _lock_number(phone: str) -> None:
    """Serialise messages from one number, so two parts of a split SMS arriving together make one draft.

    PostgreSQL: a transaction-scoped advisory lock; SQLite serialises writers already.
    """
    if connection.vendor != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(f"sms:{phone}".encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def sms_receive(*, params: dict[str, Any], inbound: InboundMessage) -> SmsOutcome:
    """Runs inside the webhook's transaction; the caller stores the reply with the delivery."""
    phone = inbound.phone
    raw_body = params.get("Body", "")
    body = normalise_text(raw_body if isinstance(raw_body, str) else " ".join(map(str, raw_body)))
    if not phone:
        return SmsOutcome(f"{SIG}无法识别您的号码，请拨打12345热线反映诉求。", note="无法识别来信号码")
    command = re.sub(r"[\s。．.!！?？~～]", "", body.upper())
    if command in OPT_OUT_WORDS:
        sms.sms_opt_out(phone=phone, source=f"sms:{inbound.sid}")
        return SmsOutcome(f"{SIG}您已退订12345热线短信通知。如需恢复，请回复KT。", note="退订")
    if command in OPT_IN_WORDS:
        sms.sms_opt_in(phone=phone)
        return SmsOutcome(f"{SIG}已恢复12345热线短信通知。回复TD退订。", note="恢复通知")
    query = _QUERY.match(body)
    if query:
        return _status_reply(phone, query.group(1))
    rated = _rating_answer(body)
    if rated is not None and rating.open_rating_ticket(phone) is not None:
        return _rating_reply(phone, *rated)
    if command in rating.SMS_DIGITS:
        return SmsOutcome(HELP, note="无待评价工单")
    awaiting = rating.sms_rating_awaiting(phone)
    if command in _THANKS and (awaiting is not None or rating.sms_rating_recent(phone)):
        return SmsOutcome(f"{SIG}感谢您的回复。如有新的诉求，请直接发送诉求内容（事项、地点）。", note="评价后致谢")
    if awaiting is not None:
        followup = _FOLLOWUP.match(body)
        if followup or (awaiting.satisfaction == rating.Satisfaction.DISSATISFIED and not awaiting.comment):
            return _rating_followup(phone, awaiting, followup, body)
    if len(body) < 2:
        return SmsOutcome(HELP, note="内容为空或过短")
    return _file(phone, body, params, inbound)


def _rating_answer(body: str) -> tuple[str, str] | None:
    """(digit, reason) when the body reads as a rating: "2", "3 没人联系", "满意", "不满意，没人联系"."""
    by_digit = _RATING.match(body)
    if by_digit:
        return by_digit.group(1), (by_digit.group(2) or "").strip()
    by_word = _RATING_WORD.match(body)
    if by_word:
        return _RATING_WORDS[by_word.group(1)], (by_word.group(2) or "").strip()
    return None


def _status_reply(phone: str, number: str) -> SmsOutcome:
    # Only the number the ticket was filed from learns its status: no enumeration by SMS.
    ticket = Ticket.objects.select_related("lead_unit").filter(number=number, citizen_phone=phone).first()
    if ticket is None:
        return SmsOutcome(f"{SIG}未找到本号码提交的工单{number}，请核对工单号。", note="查询未命中")
    return SmsOutcome(f"{SIG}{public_status(ticket)}", ticket=ticket, note="查询")


FOLLOWUP_ASK = "请再回复两位数字：第一位 承办单位是否联系过您（1是 2否），第二位 问题是否已解决（1是 2否）"


def _rating_reply(phone: str, digit: str, reason: str) -> SmsOutcome:
    ticket = rating.open_rating_ticket(phone)
    if ticket is None:
        return SmsOutcome(HELP, note="无待评价工单")
    satisfaction = rating.SMS_DIGITS[digit]
    try:
        rating.rating_record(
            ticket=ticket, actor=Actor.citizen(), satisfaction=satisfaction, channel="sms", comment=reason
        )
    except DomainError as exc:
        return SmsOutcome(f"{SIG}{exc.message}", ticket=ticket, note="评价未记录")
    label = dict(rating.Satisfaction.choices)[satisfaction]
    if satisfaction == rating.Satisfaction.DISSATISFIED and not reason:
        ask = f"{FOLLOWUP_ASK}，并写明不满意的原因，如“22 至今无人联系”。"
    else:
        ask = f"{FOLLOWUP_ASK}，如“11”。"
    return SmsOutcome(f"{SIG}感谢您的评价（{label}），工单{ticket.number}已记录。{ask}", ticket=ticket, note="评价")


def _rating_followup(phone: str, awaiting: Rating, followup: re.Match[str] | None, body: str) -> SmsOutcome:
    """补充评价: two digits (contacted, solved) and/or the reason for a 不满意."""
    if followup:
        contacted, solved = followup.group(1) == "1", followup.group(2) == "1"
        reason = (followup.group(3) or "").strip()
    else:
        contacted = solved = None
        reason = body
    if contacted is not None and awaiting.contacted is not None:
        contacted = solved = None  # already answered: only the reason is new
    ticket = awaiting.ticket
    try:
        rating.rating_complete(
            rating=awaiting, actor=Actor.citizen(), contacted=contacted, solved=solved, comment=reason
        )
    except DomainError as exc:
        return SmsOutcome(f"{SIG}{exc.message}", ticket=ticket, note="补充评价未记录")
    awaiting.refresh_from_db()
    more = ""
    if awaiting.contacted is None:
        more = f"{FOLLOWUP_ASK}，如“11”。"
    elif awaiting.satisfaction == rating.Satisfaction.DISSATISFIED and not awaiting.comment:
        more = "如方便，请回复不满意的原因。"
    review = "您的不满意意见将由督办人员审核。" if awaiting.review == "pending" and not more else ""
    return SmsOutcome(f"{SIG}已记录您对工单{ticket.number}的补充评价。{review}{more}", ticket=ticket, note="补充评价")


def _file(phone: str, body: str, params: dict[str, Any], inbound: InboundMessage) -> SmsOutcome:
    _lock_number(phone)
    window = timedelta(minutes=policy.active_profile().sms_merge_window_minutes)
    previous = (
        InboundMessage.objects.filter(
            channel=InboundChannel.SMS,
            phone=phone,
            ticket__isnull=False,
            ticket__channel=Channel.SMS,
            ticket__state=TicketState.DRAFT,
            received_at__gte=timezone.now() - window,
        )
        .exclude(pk=inbound.pk)
        .select_related("ticket")
        .order_by("-id")
        .first()
    )
    actor = Actor.citizen()
    if previous is not None and previous.ticket is not None:
        ticket = intake.ticket_append_message(ticket=previous.ticket, text=body, actor=actor, raw=params)
        return SmsOutcome(f"{SIG}已将您的补充内容并入工单{ticket.number}。", ticket=ticket, note="并入草稿")
    try:
        ticket = intake.ticket_create(
            actor=actor,
            channel=Channel.SMS,
            text=intake.message_text(body),
            citizen_phone=phone,
            draft=True,
            external_ref=inbound.sid,
            raw=params,
        )
    except RateLimited:
        return SmsOutcome(f"{SIG}您发送过于频繁，请稍后再试或拨打12345热线。", note="频率限制")
    return SmsOutcome(citizen_notifications.received_text(ticket), ticket=ticket, note="新建工单")
