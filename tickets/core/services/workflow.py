"""The workflow engine: the only code that changes a ticket's or an assignment's state.

Every operation runs in one transaction, checks the transition table in `tickets.core.states`,
moves the row with a compare-and-swap update (`UPDATE … WHERE id = %s AND state = old`), so
two people acting at once cannot both win, and appends a TicketEvent in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tickets.core.actors import Actor
from tickets.core.dates import moment_checked
from tickets.core.deadlines import deadlines
from tickets.core.models import (
    OUT_OF_SCOPE_OUTCOMES,
    Assignment,
    AssignmentRole,
    Kind,
    Outcome,
    Ticket,
    TicketEvent,
    top_lead_q,
)
from tickets.core.services import transitions
from tickets.core.services.events import event_react, event_record
from tickets.core.states import (
    ASSIGNMENT_TRANSITIONS,
    ENDED_TICKET_STATES,
    OPEN_ASSIGNMENT_STATES,
    TICKET_TRANSITIONS,
    AssignmentState,
    TicketState,
    Transition,
)
from tickets.core.text import TICKET_TEXTS, normalise_text, text_optional, text_required, ticket_texts_check
from tickets.errors import ConcurrentChange, InvalidInput, NotFound, TransitionNotAllowed
from tickets.org.models import FUNCTIONAL_MATTER_MESSAGE, Category, Role, Unit, UnitKind, functional_matter_refuses

CENTRE = (Role.OPERATOR, Role.DISPATCHER, Role.SUPERVISOR)
LEGAL_BASIS_MAX = 255  # Assignment.return_legal_basis
DISPATCHERS = (Role.OPERATOR, Role.DISPATCHER)
REVIEWERS = (Role.DISPATCHER, Role.SUPERVISOR)


# --- the chokepoint -----------------------------------------------------------------------


_refuse = transitions.refusal


def _move(
    obj: Ticket | Assignment,
    table: dict[str, Transition],
    action: str,
    *,
    ticket: Ticket,
    actor: Actor,
    reason: str = "",
    data: dict[str, Any] | None = None,
    changes: dict[str, Any] | None = None,
) -> TicketEvent:
    model = type(obj)
    current = obj.state
    target = transitions.transition_target(
        table, action, current=current, previous=getattr(obj, "state_before_request", "")
    )
    fields: dict[str, Any] = {"state": target, **(changes or {})}
    if isinstance(obj, Ticket):
        fields["updated_at"] = timezone.now()
    if not model.objects.filter(pk=obj.pk, state=current).update(**fields):
        raise ConcurrentChange("该工单刚被他人处理，请刷新后重试", rule="concurrent_change")
    for name, value in fields.items():
        setattr(obj, name, value)
    return event_record(
        ticket=ticket,
        actor=actor,
        action=action,
        assignment=obj if isinstance(obj, Assignment) else None,
        from_state=current,
        to_state=target,
        reason=reason,
        data=data,
    )


def _ticket_move(
    ticket: Ticket, action: str, *, actor: Actor, reason: str = "", data: dict[str, Any] | None = None, **changes: Any
) -> TicketEvent:
    return _move(
        ticket, TICKET_TRANSITIONS, action, ticket=ticket, actor=actor, reason=reason, data=data, changes=changes
    )


def _assignment_move(
    assignment: Assignment,
    action: str,
    *,
    actor: Actor,
    reason: str = "",
    data: dict[str, Any] | None = None,
    **changes: Any,
) -> TicketEvent:
    return _move(
        assignment,
        ASSIGNMENT_TRANSITIONS,
        action,
        ticket=assignment.ticket,
        actor=actor,
        reason=reason,
        data=data,
        changes=changes,
    )


def _locked_ticket(ticket_id: int) -> Ticket:
    """Lock the ticket row for multi-row operations (dispatch, review, merge)."""
    try:
        return Ticket.objects.select_for_update().get(pk=ticket_id)
    except Ticket.DoesNotExist:
        raise NotFound("工单不存在") from None


def _fresh_assignment(assignment_id: int) -> Assignment:
    try:
        return Assignment.objects.select_related("ticket", "unit").get(pk=assignment_id)
    except Assignment.DoesNotExist:
        raise NotFound("派单记录不存在") from None


def _require_text(value: str, field: str, what: str, max_length: int | None = None) -> str:
    return text_required(value, field=field, label=what, max_length=max_length)


def _optional_text(value: str, field: str, what: str) -> str:
    return text_optional(value, field=field, label=what)


def _ticket_open_for_unit(assignment: Assignment, what: str) -> Ticket:
    """Lock the assignment's ticket and refuse a unit's operation once the ticket has ended.

    The lock serialises the unit's action with a close or a merge (which lock the ticket too and end
    its open assignments), so a 签收 cannot slip in between the two.
    """
    ticket = _locked_ticket(assignment.ticket_id)
    if ticket.state in ENDED_TICKET_STATES:
        raise TransitionNotAllowed(
            f"该工单已结束（{TicketState(ticket.state).label}），不能{what}", rule="ticket_ended"
        )
    assignment.ticket = ticket
    return ticket


def _end_open_assignments(ticket: Ticket, *, actor: Actor, reason: str) -> None:
    """The ticket ended (办结, 直接答复, 不予派单, 并单): its assignments still open end with it (撤销派单),
    so the deadline scanner stops chasing them and they leave the units' inboxes."""
    now = timezone.now()
    for assignment in ticket.assignments.filter(state__in=OPEN_ASSIGNMENT_STATES).select_related("ticket"):
        _assignment_move(assignment, "cancel", actor=actor, reason=reason, ended_at=now)


def _end_open_descendants(assignment: Assignment, *, actor: Actor, reason: str) -> None:
    """The assignment ended (办复, 退回): the child assignments it created (下派), and theirs, end too."""
    now = timezone.now()
    parents = [assignment.pk]
    while parents:
        children = list(Assignment.objects.filter(parent_id__in=parents).select_related("ticket").order_by("id"))
        for child in children:
            if child.state in OPEN_ASSIGNMENT_STATES:
                _assignment_move(child, "cancel", actor=actor, reason=reason, ended_at=now)
        parents = [child.pk for child in children]


# --- dispatch (按责转办) ---------------------------------------------------------------------


def _check_lead_unit(ticket: Ticket, lead_unit: Unit) -> None:
    if not lead_unit.is_active:
        raise InvalidInput("该单位已停用", field="lead_unit", rule="unit_inactive")
    if lead_unit.kind == UnitKind.CENTRE:
        raise InvalidInput("不能派给热线中心", field="lead_unit", rule="unit_kind")
    if functional_matter_refuses(ticket.category, lead_unit):
        raise InvalidInput(FUNCTIONAL_MATTER_MESSAGE, field="lead_unit", rule="functional_not_to_street")


def _open_assignment(
    ticket: Ticket,
    unit: Unit,
    *,
    role: str,
    actor: Actor,
    now: datetime,
    parent: Assignment | None = None,
    round_no: int = 1,
    note: str = "",
) -> Assignment:
    clocks = deadlines().assignment_clocks(ticket=ticket, start=now)
    assignment = Assignment.objects.create(
        ticket=ticket,
        unit=unit,
        unit_path=unit.path,
        role=role,
        parent=parent,
        round=round_no,
        dispatched_at=now,
        dispatched_by=actor.user,
        note=note,
        **clocks.fields(),  # type: ignore[arg-type]
    )
    created = event_record(
        ticket=ticket,
        actor=actor,
        action="assignment_created",
        assignment=assignment,
        to_state=assignment.state,
        reason=note,
        data=transitions.assignment_created_data(unit, role=role, round_no=round_no, clocks=clocks),
    )
    event_react(created, actor=actor)
    return assignment


_iso = transitions.iso


def _record_override(ticket: Ticket, category: Category, actor: Actor) -> None:
    """A human's category replaces the classifier's (or the operator's): training data for retraining.

    Choosing exactly the classifier's top suggestion is a confirmation (`category_confirmed`, 确认智能分类),
    not a change; another category (a sub-category of it included) is `category_changed` (人工修改分类).
    """
    suggested = (ticket.classification or {}).get("label")
    overrides = bool(suggested) and suggested != category.lineage()[-1].name
    event_record(
        ticket=ticket,
        actor=actor,
        action="category_confirmed" if suggested and category.name == suggested else "category_changed",
        data={
            "from": ticket.category.name if ticket.category else None,
            "to": category.name,
            "classifier_label": suggested,
            "model_version": (ticket.classification or {}).get("model_version"),
            "overrides_classifier": overrides,
        },
    )
    if actor.is_user:
        ticket.category_source = "human"


@transaction.atomic
def ticket_dispatch(
    *,
    ticket: Ticket,
    actor: Actor,
    lead_unit: Unit,
    assisting_units: Sequence[Unit] = (),
    category: Category | None = None,
    note: str = "",
    data: dict[str, Any] | None = None,
    notify: bool = True,
) -> Ticket:
    """派单: send the ticket to a lead unit (主办) and optional assisting units (协办).

    `notify=False`: the caller tells the citizen itself (an intake that dispatches at once
    sends one 受理 notice naming the unit).
    """
    actor.require_role(*DISPATCHERS)
    note = _optional_text(note, "note", "派单说明")
    ticket = _locked_ticket(ticket.pk)
    if ticket.state in ENDED_TICKET_STATES:
        # Before the unit's checks: an ended ticket is refused for having ended, whichever unit was
        # chosen (a bulk 派单 to a street reported the functional-matter rule for a closed ticket).
        label = TicketState(ticket.state).label
        raise TransitionNotAllowed(f"工单 {ticket.number} 已结束（{label}），不能派单", rule="ticket_ended")
    if category is not None and category.pk != ticket.category_id:
        _record_override(ticket, category, actor)
        ticket.category = category
    _check_lead_unit(ticket, lead_unit)
    assisting = transitions.assisting_units(lead_unit, assisting_units)
    now = timezone.now()
    dispatched = _ticket_move(
        ticket,
        "dispatch",
        actor=actor,
        reason=note,
        data=transitions.dispatch_data(lead_unit, assisting, data),
        lead_unit=lead_unit,
        category=ticket.category,
        category_source=ticket.category_source,
        units_passed=ticket.units_passed + 1,
    )
    lead = _open_assignment(ticket, lead_unit, role=AssignmentRole.LEAD, actor=actor, now=now, note=note)
    for unit in assisting:
        _open_assignment(ticket, unit, role=AssignmentRole.ASSIST, actor=actor, now=now, note=note)
    Ticket.objects.filter(pk=ticket.pk).update(due_at=lead.reply_due_at)
    ticket.due_at = lead.reply_due_at
    event_react(dispatched, actor=actor, notify=notify)
    return ticket


@transaction.atomic
def ticket_await_dispatch(*, ticket: Ticket, actor: Actor, reason: str, data: dict[str, Any] | None = None) -> Ticket:
    """待派单: low confidence or no routing rule; a dispatcher decides."""
    ticket = _locked_ticket(ticket.pk)
    _ticket_move(ticket, "await_dispatch", actor=actor, reason=reason, data=data)
    return ticket


# --- the unit's side ----------------------------------------------------------------------


@transaction.atomic
def assignment_sign(*, assignment: Assignment, actor: Actor) -> Assignment:
    """签收: the unit accepts the dispatch; the sign-for verdict is frozen now."""
    assignment = _fresh_assignment(assignment.pk)
    actor.require_unit_of(assignment)
    _ticket_open_for_unit(assignment, "签收")
    now = timezone.now()
    on_time = assignment.sign_due_at is None or now <= assignment.sign_due_at
    _assignment_move(assignment, "sign", actor=actor, signed_at=now, sign_on_time=on_time, data={"on_time": on_time})
    return assignment


@transaction.atomic
def assignment_reply(*, assignment: Assignment, actor: Actor, text: str) -> Assignment:
    """办复: the unit's answer. The lead's top-level reply moves the ticket to `replied`.

    The unit stays responsible for what it passed down (下派): its reply is its answer, so the child
    assignments still open end with it instead of being chased for a matter already answered.
    """
    assignment = _fresh_assignment(assignment.pk)
    actor.require_unit_of(assignment)
    text = _require_text(text, "text", "办理结果", settings.REPLY_MAX)
    ticket = _ticket_open_for_unit(assignment, "办复")
    now = timezone.now()
    deadlines().resume_if_paused(assignment=assignment, actor=actor, now=now)
    on_time: bool | None = assignment.reply_due_at is None or now <= assignment.reply_due_at
    if assignment.reply_due_at is None and assignment.calendar_gap_year:
        on_time = None  # no deadline for want of calendar data: decided once the year is imported
    _assignment_move(
        assignment,
        "reply",
        actor=actor,
        reply_text=text,
        replied_at=now,
        ended_at=now,
        reply_on_time=on_time,
        data={"on_time": on_time},
    )
    _end_open_descendants(assignment, actor=actor, reason="上级单位已办复")
    if assignment.is_top_lead:
        _ticket_move(ticket, "lead_replied", actor=actor, data={"assignment": assignment.pk})
    return assignment


@transaction.atomic
def assignment_redispatch(*, assignment: Assignment, actor: Actor, child_unit: Unit, note: str = "") -> Assignment:
    """下派: a unit passes the work to a descendant (区 → 街道 → 社区) and stays responsible."""
    note = _optional_text(note, "note", "下派说明")
    assignment = _fresh_assignment(assignment.pk)
    actor.require_unit_of(assignment)
    ticket = _ticket_open_for_unit(assignment, "下派")
    if assignment.state != AssignmentState.SIGNED:
        raise TransitionNotAllowed("请先签收，再下派给下级单位", rule="state:redispatch")
    if not child_unit.path.startswith(assignment.unit.path) or child_unit.pk == assignment.unit_id:
        raise InvalidInput("只能下派给本单位的下级单位", field="child_unit", rule="descendant_only")
    if functional_matter_refuses(ticket.category, child_unit):
        raise InvalidInput(FUNCTIONAL_MATTER_MESSAGE, field="child_unit", rule="functional_not_to_street")
    # A second open assignment for the same unit is one the unit cannot reach from its inbox, yet is chased.
    if ticket.assignments.filter(unit=child_unit, state__in=OPEN_ASSIGNMENT_STATES).exists():
        raise TransitionNotAllowed("该下级单位已有未办结的下派，不能重复下派", rule="redispatch_duplicate")
    return _open_assignment(
        ticket,
        child_unit,
        role=assignment.role,
        actor=actor,
        now=timezone.now(),
        parent=assignment,
        round_no=assignment.round,
        note=note,
    )


@transaction.atomic
def assignment_request_return(*, assignment: Assignment, actor: Actor, reason: str, legal_basis: str) -> Assignment:
    """申请退回: not this unit's responsibility; reason and legal basis are required."""
    assignment = _fresh_assignment(assignment.pk)
    actor.require_unit_of(assignment)
    reason = _require_text(reason, "reason", "退回理由")
    legal_basis = _require_text(legal_basis, "legal_basis", "法律法规或职责依据", LEGAL_BASIS_MAX)
    _ticket_open_for_unit(assignment, "申请退回")
    deadlines().check_return_window(assignment=assignment, now=timezone.now())
    _assignment_move(
        assignment,
        "request_return",
        actor=actor,
        reason=reason,
        data={"legal_basis": legal_basis},
        state_before_request=assignment.state,
        return_reason=reason,
        return_legal_basis=legal_basis,
    )
    return assignment


@transaction.atomic
def assignment_decide_return(
    *,
    assignment: Assignment,
    actor: Actor,
    approve: bool,
    reason: str = "",
    redispatch_to: Unit | None = None,
) -> Assignment:
    """The centre rules on a return: approved closes the assignment and re-dispatches the ticket."""
    actor.require_role(*REVIEWERS)
    reason = _optional_text(reason, "reason", "审核意见")
    assignment = _fresh_assignment(assignment.pk)
    if not approve:
        _assignment_move(assignment, "reject_return", actor=actor, reason=_require_text(reason, "reason", "驳回理由"))
        return assignment
    now = timezone.now()
    _assignment_move(assignment, "approve_return", actor=actor, reason=reason, ended_at=now)
    _end_open_descendants(assignment, actor=actor, reason="上级派单已退回")
    if assignment.is_top_lead:
        ticket = _locked_ticket(assignment.ticket_id)
        for other in ticket.assignments.filter(state__in=OPEN_ASSIGNMENT_STATES, round=assignment.round).select_related(
            "ticket"
        ):
            _assignment_move(other, "cancel", actor=actor, reason="主办单位退回，重新派单", ended_at=now)
        returned = _ticket_move(ticket, "return_to_queue", actor=actor, reason=reason, lead_unit=None)
        event_react(returned, actor=actor)
        if redispatch_to is not None:
            ticket_dispatch(ticket=ticket, actor=actor, lead_unit=redispatch_to, note=reason)
    return assignment


@transaction.atomic
def assignment_request_extension(*, assignment: Assignment, actor: Actor, until: datetime, reason: str) -> Assignment:
    """申请延期: at most once, before the deadline, within the policy's cap."""
    assignment = _fresh_assignment(assignment.pk)
    actor.require_unit_of(assignment)
    reason = _require_text(reason, "reason", "延期理由")
    _ticket_open_for_unit(assignment, "申请延期")
    until = moment_checked(until, field="until")
    deadlines().check_extension_request(assignment=assignment, until=until, now=timezone.now())
    _assignment_move(
        assignment,
        "request_extension",
        actor=actor,
        reason=reason,
        data={"until": until.isoformat()},
        state_before_request=assignment.state,
        extension_until=until,
        extension_reason=reason,
    )
    return assignment


@transaction.atomic
def assignment_decide_extension(*, assignment: Assignment, actor: Actor, approve: bool, reason: str = "") -> Assignment:
    """The centre rules on an extension: approved moves the reply deadline (and, for the ticket's own
    主办 assignment, the ticket's, and the citizen is told)."""
    actor.require_role(*REVIEWERS)
    reason = _optional_text(reason, "reason", "审核意见")
    assignment = _fresh_assignment(assignment.pk)
    if not approve:
        _assignment_move(
            assignment,
            "reject_extension",
            actor=actor,
            reason=_require_text(reason, "reason", "驳回理由"),
            extension_until=None,
        )
        return assignment
    new_due = assignment.extension_until
    approved = _assignment_move(
        assignment,
        "approve_extension",
        actor=actor,
        reason=reason,
        data={"from": _iso(assignment.reply_due_at), "to": _iso(new_due)},
        extension_count=assignment.extension_count + 1,
        # The deadline moves: 催办/督办/通报 are rescheduled, a pending 催办 is cancelled.
        **deadlines().reply_deadline_fields(assignment=assignment, reply_due_at=new_due),
    )
    if assignment.is_top_lead:
        Ticket.objects.filter(pk=assignment.ticket_id).update(due_at=new_due)
    event_react(approved, actor=actor)  # the citizen is told the new 办结时限 (the lead's only)
    return assignment


# --- the centre's side --------------------------------------------------------------------


def _lead_assignment(ticket: Ticket, *states: str) -> Assignment:
    qs = ticket.assignments.filter(top_lead_q()).select_related("ticket")
    if states:
        qs = qs.filter(state__in=states)
    found = qs.order_by("-round", "-id").first()
    if found is None:
        raise TransitionNotAllowed("没有可操作的主办派单", rule="no_lead_assignment")
    return found


@transaction.atomic
def ticket_review_reply(*, ticket: Ticket, actor: Actor, accept: bool, reason: str = "") -> Ticket:
    """审核办复: accept (then ask for a rating) or send back to the lead unit."""
    actor.require_role(*REVIEWERS)
    reason = _optional_text(reason, "reason", "审核意见")
    ticket = _locked_ticket(ticket.pk)
    if accept:
        _ticket_move(ticket, "review_accept", actor=actor, reason=reason)
        asked = _ticket_move(ticket, "request_rating", actor=actor)
        event_react(asked, actor=actor)  # invitation, rating round and 回访 task, merged children's rounds
        return ticket
    reason = _require_text(reason, "reason", "退回理由")
    if ticket.state != TicketState.REPLIED:
        raise _refuse(TICKET_TRANSITIONS["review_send_back"].label, TicketState(ticket.state).label, "review_send_back")
    lead = _lead_assignment(ticket, AssignmentState.REPLIED)
    _assignment_move(lead, "send_back", actor=actor, reason=reason, ended_at=None, reply_on_time=None)
    _ticket_move(ticket, "review_send_back", actor=actor, reason=reason)
    return ticket


@transaction.atomic
def ticket_close(*, ticket: Ticket, actor: Actor, reason: str = "", outcome: str = Outcome.RESOLVED) -> Ticket:
    """办结. Children merged into this ticket follow it."""
    actor.require_role(*CENTRE)
    reason = _optional_text(reason, "reason", "办结说明")
    ticket = _locked_ticket(ticket.pk)
    now = timezone.now()
    closed = _ticket_move(ticket, "close", actor=actor, reason=reason, outcome=outcome, closed_at=now)
    _end_open_assignments(ticket, actor=actor, reason="工单已办结，未办结的派单随之撤销")
    event_react(closed, actor=actor)  # merged children follow the master; open 回访 tasks are dropped
    return ticket


@transaction.atomic
def ticket_reopen(*, ticket: Ticket, actor: Actor, reason: str) -> Ticket:
    """重办: back to the lead unit with the citizen's reason and a new deadline."""
    actor.require_role(*REVIEWERS)
    reason = _require_text(reason, "reason", "重办理由")
    ticket = _locked_ticket(ticket.pk)
    previous = _lead_assignment(ticket)
    reopened = _ticket_move(
        ticket, "reopen", actor=actor, reason=reason, reopen_count=ticket.reopen_count + 1, closed_at=None, outcome=""
    )
    _open_assignment(
        ticket,
        previous.unit,
        role=AssignmentRole.LEAD,
        actor=actor,
        now=timezone.now(),
        round_no=previous.round + 1,
        note=reason,
    )
    lead = _lead_assignment(ticket)
    Ticket.objects.filter(pk=ticket.pk).update(due_at=lead.reply_due_at)
    event_react(reopened, actor=actor)  # 问题工单 check
    return ticket


@transaction.atomic
def ticket_merge(*, ticket: Ticket, master: Ticket, actor: Actor, reason: str) -> Ticket:
    """并单: the ticket joins a master ticket about the same matter and follows its outcome."""
    actor.require_role(*DISPATCHERS)
    reason = _optional_text(reason, "reason", "并单说明")
    if ticket.pk == master.pk:
        raise InvalidInput("不能与自身并单", field="master", rule="merge_self")
    first, second = sorted([ticket.pk, master.pk])  # lock in id order: no deadlock between two merges
    locked = {t.pk: t for t in Ticket.objects.select_for_update().filter(pk__in=[first, second]).order_by("pk")}
    ticket, master = locked[ticket.pk], locked[master.pk]
    if master.state in (
        TicketState.MERGED,
        TicketState.CLOSED,
        TicketState.ANSWERED_DIRECTLY,
        TicketState.OUT_OF_SCOPE,
    ):
        raise TransitionNotAllowed("主工单已结束或已被并单，不能作为并单目标", rule="merge_master_state")
    # Children follow their direct master only (their citizens are told and asked to rate from it):
    # a master merged further would leave its children behind a ticket that never closes.
    if ticket.merged_children.filter(state=TicketState.MERGED).exists():
        raise TransitionNotAllowed("该工单已有并入的工单，请先将其并入目标主工单或取消并单", rule="merge_has_children")
    _end_open_assignments(ticket, actor=actor, reason="并单")
    merged = _ticket_move(
        ticket,
        "merge",
        actor=actor,
        reason=reason,
        data={"master": master.number},
        merged_into=master,
        outcome=Outcome.MERGED,
    )
    event_record(ticket=master, actor=actor, action="child_merged", reason=reason, data={"child": ticket.number})
    event_react(merged, actor=actor, master=master)  # duplicate link; a late child rates at once
    return ticket


@transaction.atomic
def ticket_unmerge(*, ticket: Ticket, actor: Actor, reason: str) -> Ticket:
    """取消并单: possible until the master closes."""
    actor.require_role(*DISPATCHERS)
    reason = _optional_text(reason, "reason", "取消并单说明")
    ticket = _locked_ticket(ticket.pk)
    master = ticket.merged_into
    if master is not None and master.state == TicketState.CLOSED:
        raise TransitionNotAllowed("主工单已办结，不能取消并单", rule="unmerge_master_closed")
    unmerged = _ticket_move(
        ticket,
        "unmerge",
        actor=actor,
        reason=reason,
        merged_into=None,
        outcome="",
        data={"master": master.number if master else None},
    )
    if master is not None:
        event_record(ticket=master, actor=actor, action="child_unmerged", reason=reason, data={"child": ticket.number})
    event_react(unmerged, actor=actor, master=master)  # the duplicate link is revoked
    return ticket


# 投诉 and 举报 are normally dispatched to the responsible unit (按责转办, domain.md §3): answering one at
# intake needs the operator's explicit confirmation, recorded on the event for the supervisor.
DIRECT_ANSWER_CONFIRM_KINDS = frozenset({Kind.COMPLAINT, Kind.REPORT})
DIRECT_ANSWER_CONFIRM_MESSAGE = "投诉、举报类诉求一般应转办承办单位；确需直接答复的，请勾选确认"


@transaction.atomic
def ticket_answer_directly(
    *, ticket: Ticket, actor: Actor, answer: str, article_id: int | None = None, confirm_kind: bool = False
) -> Ticket:
    """直接答复: answered at intake (first-contact resolution).

    A 投诉 or 举报 is refused unless `confirm_kind` (the operator confirmed that this one may be
    answered without dispatch); the refusal changes nothing.
    """
    actor.require_role(*DISPATCHERS)
    answer = _require_text(answer, "answer", "答复内容", settings.REPLY_MAX)
    ticket = _locked_ticket(ticket.pk)
    # The state first: a ticket that cannot be answered any more is refused for that, not for its kind.
    transitions.transition_target(TICKET_TRANSITIONS, "answer_directly", current=ticket.state)
    needs_confirm = ticket.kind in DIRECT_ANSWER_CONFIRM_KINDS
    if needs_confirm and not confirm_kind:
        raise InvalidInput(DIRECT_ANSWER_CONFIRM_MESSAGE, field="confirm_kind", rule="direct_answer_needs_confirm")
    answered = _ticket_move(
        ticket,
        "answer_directly",
        actor=actor,
        reason=answer,
        data={"article": article_id, **({"confirm_kind": True} if needs_confirm else {})},
        outcome=Outcome.DIRECT_ANSWER,
        outcome_reason=answer,
        closed_at=timezone.now(),
    )
    _end_open_assignments(ticket, actor=actor, reason="工单已直接答复，未办结的派单随之撤销")
    event_react(answered, actor=actor)  # the caller gets the answer by SMS
    return ticket


@transaction.atomic
def ticket_mark_out_of_scope(*, ticket: Ticket, actor: Actor, outcome: str, reason: str) -> Ticket:
    """转110/119/120/122, 告知途径, 不予受理, 恶意来电: ended without dispatch, with a reason."""
    actor.require_role(*DISPATCHERS)
    if outcome not in OUT_OF_SCOPE_OUTCOMES:
        choose = "请选择不予派单的结果（转110/119/120/122、告知途径、不予受理或恶意来电）"
        raise InvalidInput(choose, field="outcome", rule="enum")
    reason = _require_text(reason, "reason", "不予派单的原因")
    ticket = _locked_ticket(ticket.pk)
    ended = _ticket_move(
        ticket,
        "mark_out_of_scope",
        actor=actor,
        reason=reason,
        data={"outcome": outcome},
        outcome=outcome,
        outcome_reason=reason,
        closed_at=timezone.now(),
    )
    _end_open_assignments(ticket, actor=actor, reason="工单不予派单，未办结的派单随之撤销")
    event_react(ended, actor=actor)  # the citizen is told the outcome and its reason by SMS
    return ticket


@transaction.atomic
def ticket_complete_draft(*, ticket: Ticket, actor: Actor, changes: dict[str, Any]) -> Ticket:
    """补全: an operator completes a phone/SMS draft; it then goes to routing."""
    actor.require_role(*DISPATCHERS)
    ticket = _locked_ticket(ticket.pk)
    allowed = {
        "kind",
        "urgency",
        "title",
        "text",
        "citizen_name",
        "citizen_address",
        "confidential",
        "anonymous",
        "jurisdiction",
        "category",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(f"不能修改字段 {sorted(unknown)[0]}", field=sorted(unknown)[0], rule="unknown_field")
    texts = ticket_texts_check({name: value for name, value in changes.items() if name in TICKET_TEXTS})
    changes = {**changes, **{name: normalise_text(value) for name, value in texts.items()}}
    completed = _ticket_move(ticket, "complete_draft", actor=actor, data={"fields": sorted(changes)}, **changes)
    # The draft's fingerprint was taken from its first words: later lookups must see the full text.
    event_react(completed, actor=actor)
    return ticket
