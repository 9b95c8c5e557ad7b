"""Typed live-event payloads and who they are for.

Every payload a client receives (over the socket or from `GET /api/events/`) is one of the
TypedDicts below, keyed by its `type`. A payload about a ticket carries `cursor` (the
TicketEvent id: monotonically increasing, so a client that lost its socket asks for
`?after=<last cursor>`). `call.incoming` is not history — a ringing phone is only news while it
rings — so its cursor is None and it is never replayed.

The tables at the bottom are data, like `tickets.core.states`: which TicketEvent.action becomes
which payload type, and which readers each type is for.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

# --- building blocks ------------------------------------------------------------------------


class UnitRef(TypedDict):
    code: str
    name: str


class AssignmentRef(TypedDict):
    id: int
    unit: UnitRef
    role: str  # lead (主办) / assist (协办)
    state: str
    sign_due_at: str | None
    reply_due_at: str | None


class TicketRef(TypedDict):
    """The ticket as a live client shows it in a list row. Citizen fields and the title pass
    through `tickets.core.privacy` for each reader before they leave the server."""

    id: int
    number: str
    title: str
    kind: str
    urgency: str
    state: str
    category: str | None
    lead_unit: UnitRef | None
    due_at: str | None
    is_problem: bool
    is_flagged: bool
    confidential: bool
    anonymous: bool
    citizen_name: str
    citizen_phone: str
    citizen_address: str
    phone_masked: bool


class TicketEventPayload(TypedDict):
    type: str
    cursor: int
    at: str
    actor: str
    ticket: TicketRef


# --- one payload per event type -----------------------------------------------------------


class TicketCreated(TicketEventPayload):
    """受理: a new ticket entered the one intake."""

    channel: str


class TicketDispatched(TicketEventPayload):
    """派单 (`how`=dispatch) or 下派 to a descendant unit (`how`=redispatch)."""

    how: Literal["dispatch", "redispatch"]
    lead_unit: UnitRef | None
    assisting_units: list[UnitRef]
    assignment: AssignmentRef | None
    note: str


class TicketNeedsDispatch(TicketEventPayload):
    """待派单: routing could not decide; a dispatcher must."""

    reason: str
    suggestions: list[dict[str, object]]


class AssignmentSigned(TicketEventPayload):
    """签收."""

    assignment: AssignmentRef
    on_time: bool | None


class AssignmentReplied(TicketEventPayload):
    """办复: the centre reviews the reply."""

    assignment: AssignmentRef
    on_time: bool | None
    text_excerpt: str


class AssignmentReturnRequested(TicketEventPayload):
    """申请退回: the centre rules on it."""

    assignment: AssignmentRef
    reason: str
    legal_basis: str


class AssignmentExtensionRequested(TicketEventPayload):
    """申请延期: the centre rules on it."""

    assignment: AssignmentRef
    until: str | None
    reason: str


class SlaNotice(TicketEventPayload):
    """催办 before a deadline (sla.warning) or a deadline passed (sla.overdue)."""

    assignment: AssignmentRef | None
    clock: str  # sign / reply / ticket
    due_at: str | None


class SupervisionIssued(TicketEventPayload):
    """督办 / 通报 / 挂牌督办 / 提级督办 issued by the centre."""

    assignment: AssignmentRef | None
    level: str
    reason: str


class RatingReceived(TicketEventPayload):
    """评价: the citizen's verdict (满意 / 基本满意 / 不满意, solved, contacted)."""

    satisfaction: str
    solved: bool | None
    contacted: bool | None


class HotspotSurge(TicketEventPayload):
    """热点激增: a cluster of tickets grew far past its baseline (the ticket is its representative)."""

    alert: int
    label: str
    count: int
    baseline_per_day: float
    tickets: list[int]


class TicketChanged(TicketEventPayload):
    """Any other change, only for clients watching this very ticket (a detail page)."""

    action: str
    from_state: str
    to_state: str
    reason: str


class CallerTicket(TypedDict):
    id: int
    number: str
    title: str
    state: str
    created_at: str | None


class CallIncoming(TypedDict):
    """来电弹屏: a call is ringing; operators see the caller's earlier tickets."""

    type: Literal["call.incoming"]
    cursor: None
    at: str
    call_sid: str
    phone: str
    history: list[CallerTicket]
    ticket: NotRequired[None]


class CallBridged(TypedDict):
    """来电弹屏 on connect: the caller is bridged to this operator (only their sockets get it)."""

    type: Literal["call.bridged"]
    cursor: None
    at: str
    operator: int  # the user id of the bridged operator: every other reader gets nothing
    call_sid: str
    desk: str
    phone: str
    wait_seconds: int
    repeat_caller: bool
    opted_out: bool
    confidential_history: bool
    history: list[CallerTicket]
    ticket: NotRequired[None]
    phone_display: NotRequired[str]  # the number as this reader may see it, grouped (privacy.phone_display)


class WallboardDesk(TypedDict):
    code: str
    name: str
    waiting: int
    longest_wait: int


class WallboardSeats(TypedDict):
    state: str
    label: str
    count: int


class Wallboard(TypedDict):
    """The supervisors' wallboard: queue length and longest wait per desk, operators by state."""

    type: Literal["wallboard"]
    cursor: None
    at: str
    desks: list[WallboardDesk]
    seats: list[WallboardSeats]
    ticket: NotRequired[None]


LivePayload = (
    TicketCreated
    | TicketDispatched
    | TicketNeedsDispatch
    | AssignmentSigned
    | AssignmentReplied
    | AssignmentReturnRequested
    | AssignmentExtensionRequested
    | SlaNotice
    | SupervisionIssued
    | RatingReceived
    | HotspotSurge
    | TicketChanged
    | CallIncoming
    | CallBridged
    | Wallboard
)


class Envelope(TypedDict):
    """What travels through the channel layer: the full (centre) payload plus the unit paths
    of the ticket's assignments, so each consumer can cut it down for its reader."""

    payload: LivePayload
    unit_paths: list[str]


# --- tables -------------------------------------------------------------------------------

TICKET_CREATED = "ticket.created"
TICKET_DISPATCHED = "ticket.dispatched"
TICKET_NEEDS_DISPATCH = "ticket.needs_dispatch"
ASSIGNMENT_SIGNED = "assignment.signed"
ASSIGNMENT_REPLIED = "assignment.replied"
ASSIGNMENT_RETURN_REQUESTED = "assignment.return_requested"
ASSIGNMENT_EXTENSION_REQUESTED = "assignment.extension_requested"
SLA_WARNING = "sla.warning"
SLA_OVERDUE = "sla.overdue"
SUPERVISION_ISSUED = "supervision.issued"
RATING_RECEIVED = "rating.received"
HOTSPOT_SURGE = "hotspot.surge"
TICKET_CHANGED = "ticket.changed"
CALL_INCOMING = "call.incoming"
CALL_BRIDGED = "call.bridged"
WALLBOARD = "wallboard"

# TicketEvent.action → payload type. The SLA, supervision and rating actions are written by
# other services; both spellings (underscore and dotted) and the usual verbs are accepted.
ACTION_TYPES: dict[str, str] = {
    "created": TICKET_CREATED,
    "dispatch": TICKET_DISPATCHED,
    # assignment_created is a live event only for 下派 (an assignment with a parent); the
    # top-level ones are covered by the `dispatch` event of the same transaction.
    "assignment_created": TICKET_DISPATCHED,
    "await_dispatch": TICKET_NEEDS_DISPATCH,
    "return_to_queue": TICKET_NEEDS_DISPATCH,
    "sign": ASSIGNMENT_SIGNED,
    "reply": ASSIGNMENT_REPLIED,
    "request_return": ASSIGNMENT_RETURN_REQUESTED,
    "request_extension": ASSIGNMENT_EXTENSION_REQUESTED,
    "sla_warning": SLA_WARNING,
    "sla.warning": SLA_WARNING,
    "remind": SLA_WARNING,
    "sla_overdue": SLA_OVERDUE,
    "sla.overdue": SLA_OVERDUE,
    "overdue": SLA_OVERDUE,
    "supervision_issued": SUPERVISION_ISSUED,
    "supervision.issued": SUPERVISION_ISSUED,
    "supervise": SUPERVISION_ISSUED,
    "public_notice": SUPERVISION_ISSUED,
    "flag": SUPERVISION_ISSUED,
    "escalated_problem": SUPERVISION_ISSUED,
    "rating_received": RATING_RECEIVED,
    "rating.received": RATING_RECEIVED,
    "rate": RATING_RECEIVED,
    "rated": RATING_RECEIVED,
    "hotspot.surge": HOTSPOT_SURGE,
}

# Actions that are never pushed live, not even to a ticket's watchers.
SILENT_ACTIONS = frozenset({"phone_revealed"})

OPERATOR, DISPATCHER, SUPERVISOR, UNIT = "operator", "dispatcher", "supervisor", "unit"

# Who each type is for (besides the clients watching that ticket). Unit readers only ever get
# events of tickets assigned to their unit or its descendants.
AUDIENCE: dict[str, frozenset[str]] = {
    TICKET_CREATED: frozenset({OPERATOR, DISPATCHER, SUPERVISOR}),
    TICKET_NEEDS_DISPATCH: frozenset({OPERATOR, DISPATCHER}),
    TICKET_DISPATCHED: frozenset({OPERATOR, DISPATCHER, SUPERVISOR, UNIT}),
    ASSIGNMENT_SIGNED: frozenset({DISPATCHER, SUPERVISOR, UNIT}),
    ASSIGNMENT_REPLIED: frozenset({DISPATCHER, SUPERVISOR, UNIT}),
    ASSIGNMENT_RETURN_REQUESTED: frozenset({DISPATCHER, SUPERVISOR, UNIT}),
    ASSIGNMENT_EXTENSION_REQUESTED: frozenset({DISPATCHER, SUPERVISOR, UNIT}),
    SLA_WARNING: frozenset({SUPERVISOR, UNIT}),
    SLA_OVERDUE: frozenset({DISPATCHER, SUPERVISOR, UNIT}),
    SUPERVISION_ISSUED: frozenset({SUPERVISOR, UNIT}),
    RATING_RECEIVED: frozenset({OPERATOR, DISPATCHER, SUPERVISOR, UNIT}),
    HOTSPOT_SURGE: frozenset({OPERATOR, DISPATCHER, SUPERVISOR}),
    TICKET_CHANGED: frozenset(),
    CALL_INCOMING: frozenset({OPERATOR}),
    # only to the bridged operator's seat group (channels_app.groups.seat_group), whatever the role
    CALL_BRIDGED: frozenset({OPERATOR, DISPATCHER, SUPERVISOR}),
    WALLBOARD: frozenset({SUPERVISOR}),
}


def type_of_action(action: str) -> str | None:
    """The payload type of a TicketEvent action; None for actions never pushed live."""
    if action in SILENT_ACTIONS:
        return None
    return ACTION_TYPES.get(action, TICKET_CHANGED)


def actions_for_audience(audience: str) -> list[str]:
    """The actions whose payload type is for this kind of reader (the catch-up query)."""
    return sorted(action for action, kind in ACTION_TYPES.items() if audience in AUDIENCE[kind])
