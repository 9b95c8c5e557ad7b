"""States and the allowed-transitions tables of the ticket and assignment lifecycles.

This file is data, not code paths: `tickets.core.services.workflow` is the only code that applies
these tables, and it refuses anything they do not list (domain.md §4).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models


class TicketState(models.TextChoices):
    DRAFT = "draft", "草稿"  # phone/SMS intake waiting for an operator to complete it
    REGISTERED = "registered", "已受理"
    DISPATCHING = "dispatching", "待派单"
    IN_PROGRESS = "in_progress", "办理中"
    REPLIED = "replied", "已办复"
    REVIEWED = "reviewed", "已审核"
    RATING = "rating", "待评价"
    CLOSED = "closed", "已办结"
    ANSWERED_DIRECTLY = "answered_directly", "直接答复"
    OUT_OF_SCOPE = "out_of_scope", "不予派单"
    MERGED = "merged", "已并单"


# What a citizen reads of a state, where the staff's word would mislead: a draft is a matter the
# centre has received and is still registering (an SMS or a voicemail an operator completes).
CITIZEN_STATE_LABELS = {TicketState.DRAFT: "已收到，正在登记"}


def citizen_state_label(state: str) -> str:
    return CITIZEN_STATE_LABELS.get(state, TicketState(state).label)  # type: ignore[call-overload]


class AssignmentState(models.TextChoices):
    PENDING_SIGN = "pending_sign", "待签收"
    SIGNED = "signed", "办理中"
    REPLIED = "replied", "已办复"
    RETURN_REQUESTED = "return_requested", "申请退回"
    EXTENSION_REQUESTED = "extension_requested", "申请延期"
    RETURNED = "returned", "已退回"
    CANCELLED = "cancelled", "已撤销"


# Marker target: go back to the state held before a request (a rejected return).
PREVIOUS = "__previous__"


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    label: str  # the Chinese name shown in history and error messages


def _t(sources: Iterable[str], target: str, label: str) -> Transition:
    return Transition(frozenset(sources), target, label)


T, A = TicketState, AssignmentState
_PRE_DISPATCH = {T.DRAFT, T.REGISTERED, T.DISPATCHING}

TICKET_TRANSITIONS: dict[str, Transition] = {
    "complete_draft": _t({T.DRAFT}, T.REGISTERED, "补全受理"),
    "await_dispatch": _t({T.REGISTERED}, T.DISPATCHING, "转人工派单"),
    "dispatch": _t({T.REGISTERED, T.DISPATCHING}, T.IN_PROGRESS, "派单"),
    "lead_replied": _t({T.IN_PROGRESS}, T.REPLIED, "主办单位办复"),
    "review_accept": _t({T.REPLIED}, T.REVIEWED, "审核通过"),
    "review_send_back": _t({T.REPLIED}, T.IN_PROGRESS, "审核退回重新办理"),
    "request_rating": _t({T.REVIEWED}, T.RATING, "发起回访评价"),
    "close": _t({T.REVIEWED, T.RATING}, T.CLOSED, "办结"),
    "reopen": _t({T.RATING, T.CLOSED}, T.IN_PROGRESS, "重办"),
    "return_to_queue": _t({T.IN_PROGRESS}, T.DISPATCHING, "退单后重新派单"),
    "answer_directly": _t(_PRE_DISPATCH, T.ANSWERED_DIRECTLY, "直接答复"),
    "mark_out_of_scope": _t(_PRE_DISPATCH, T.OUT_OF_SCOPE, "不予派单"),
    "merge": _t(_PRE_DISPATCH | {T.IN_PROGRESS}, T.MERGED, "并单"),
    "unmerge": _t({T.MERGED}, T.REGISTERED, "取消并单"),
}

_OPEN_ASSIGNMENT = {A.PENDING_SIGN, A.SIGNED, A.RETURN_REQUESTED, A.EXTENSION_REQUESTED}

ASSIGNMENT_TRANSITIONS: dict[str, Transition] = {
    "sign": _t({A.PENDING_SIGN}, A.SIGNED, "签收"),
    "reply": _t({A.SIGNED}, A.REPLIED, "办复"),
    "request_return": _t({A.PENDING_SIGN, A.SIGNED}, A.RETURN_REQUESTED, "申请退回"),
    "approve_return": _t({A.RETURN_REQUESTED}, A.RETURNED, "同意退回"),
    "reject_return": _t({A.RETURN_REQUESTED}, PREVIOUS, "驳回退回申请"),
    "request_extension": _t({A.SIGNED}, A.EXTENSION_REQUESTED, "申请延期"),
    "approve_extension": _t({A.EXTENSION_REQUESTED}, A.SIGNED, "同意延期"),
    "reject_extension": _t({A.EXTENSION_REQUESTED}, A.SIGNED, "驳回延期申请"),
    "send_back": _t({A.REPLIED}, A.SIGNED, "办复被退回"),
    "cancel": _t(_OPEN_ASSIGNMENT, A.CANCELLED, "撤销派单"),
}

OPEN_TICKET_STATES = frozenset({T.DRAFT, T.REGISTERED, T.DISPATCHING, T.IN_PROGRESS, T.REPLIED, T.REVIEWED, T.RATING})
ENDED_TICKET_STATES = frozenset({T.CLOSED, T.ANSWERED_DIRECTLY, T.OUT_OF_SCOPE, T.MERGED})
OPEN_ASSIGNMENT_STATES = frozenset(_OPEN_ASSIGNMENT)
ENDED_ASSIGNMENT_STATES = frozenset({A.REPLIED, A.RETURNED, A.CANCELLED})
