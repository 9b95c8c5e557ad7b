"""The per-event scorecard rules (§6): what one TicketEvent adds to which unit on which day.

A fact is (unit id, counter, amount, local day). The day is the event's own local day, except
where §6 ties a count to another moment: an assignment that passes its reply deadline unreplied
counts as due (and late) on the day of its deadline; a repeat call counts on the day the repeat
ticket came in. Each rule reads only the event and the earlier events of the same ticket or
assignment, so the incremental path (`metrics.metrics_apply_event`) and the rebuild from history
compute the same facts. A few rules retract an earlier fact (amount -1 on the day it was added),
e.g. an on-time reply that the centre sent back: the retracted row always holds the +1.

Who is credited (domain.md §1, §6):

================================ ==========================================================
counter                          unit
================================ ==========================================================
dispatched, signed_on_time,      the assignment's unit (主办, 协办 and 下派 children alike)
due, replied_on_time,
returns_approved
led                              a unit the first time it leads a ticket (top-level 主办):
                                 its base for 重复来电率
reopened, closed,                the lead unit of the handling round (the newest top-level
closed_first_time                lead dispatch before the event)
ratings, valid_callbacks,        the rated unit kept on the event (`data.unit`: the lead unit
contacted, solved, satisfied,    of the round; for a merged child, the master's lead unit),
basically_satisfied,             else the lead unit of the round
dissatisfied
accepted, answered_directly      the centre: 受理 and 直接答复 are the intake desk's work
repeat_calls                     the centre (city-wide rate over accepted tickets) and the
                                 lead unit of the earlier ticket (its handling did not settle
                                 the matter; rate over the tickets it led)
================================ ==========================================================
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from tickets.core.memo import memoised
from tickets.core.models import AssignmentRole, Ticket, TicketEvent
from tickets.metrics.models import same_caller_days
from tickets.org.models import Unit

Fact = tuple[int, str, int, date]  # (unit id, counter, amount, local day)

SATISFACTION_COUNTER = {"satisfied": "satisfied", "basic": "basically_satisfied", "dissatisfied": "dissatisfied"}

# The events that change whether an assignment counts as due (按时办结率's denominator).
_DUE_ACTIONS = ("reply", "send_back", "sla.overdue", "approve_extension")
# The events that link or unlink two tickets (重复来电).
_LINK_ACTIONS = ("merge", "unmerge", "duplicate_confirmed")

# How an assignment is counted: None, or (how, day, on_time, unit) with how in {"reply", "overdue"}.
DueState = tuple[str, date, bool, int] | None


def _day(moment: datetime) -> date:
    return timezone.localdate(moment)


def centre_id() -> int | None:
    return memoised(
        "centre_id",
        lambda: Unit.objects.filter(kind="centre").order_by("id").values_list("id", flat=True).first(),
        reference=True,
    )


def lead_unit_before(ticket_id: int, event_id: int) -> int | None:
    """The unit leading the ticket before an event: the newest top-level lead dispatch before it."""
    dispatches = _lead_dispatches([ticket_id], before=event_id)
    return dispatches[-1][1] if dispatches else None


def _lead_dispatches(ticket_ids: Iterable[int], *, before: int | None = None) -> list[tuple[int, int, int]]:
    """(ticket, unit, event id) of each top-level lead dispatch (`assignment_created`) of these
    tickets, oldest first; only those before event `before` when given.

    One read that goes by the ticket: the dispatch events by their ticket index, each one's
    assignment by its primary key; which assignments are top-level leads is decided here, not in
    the query. Asked in SQL ("a top-level lead of unit U"), PostgreSQL on stale statistics (a new
    centre, a bulk load, a cluster without autovacuum) started from the assignments and walked
    every top-level lead of the unit or of the city for one ticket: 10–46 ms at 20,000
    assignments, growing with the table, against 0.05 ms (bench/intake/README.md, session 25).
    """
    events = TicketEvent.objects.filter(
        ticket_id__in=sorted(set(ticket_ids)), action="assignment_created", assignment_id__isnull=False
    )
    if before is not None:
        events = events.filter(id__lt=before)
    rows = events.order_by("id").values_list(
        "ticket_id", "id", "assignment__unit_id", "assignment__role", "assignment__parent_id"
    )
    return [
        (ticket_id, unit_id, event_id)
        for ticket_id, event_id, unit_id, role, parent_id in rows
        if role == AssignmentRole.LEAD and parent_id is None
    ]


def _earlier(event: TicketEvent, *actions: str) -> bool:
    return TicketEvent.objects.filter(ticket_id=event.ticket_id, id__lt=event.id, action__in=actions).exists()


# --- 按时办结: due once per assignment ---------------------------------------------------------


def _deadline_day(data: dict[str, Any]) -> date | None:
    raw = data.get("due_at")
    if not raw:
        return None
    try:
        return _day(datetime.fromisoformat(str(raw)))
    except ValueError:
        return None


def _is_reply_overdue(event: TicketEvent) -> bool:
    """A 督办 notice on the reply clock issued after the deadline: the assignment passed it unreplied."""
    data = event.data or {}
    if event.action != "sla.overdue" or data.get("clock") != "reply" or not data.get("due_at"):
        return False
    try:
        return datetime.fromisoformat(str(data["due_at"])) <= event.created_at
    except ValueError:
        return False


def due_step(state: DueState, event: TicketEvent, unit_id: int) -> tuple[DueState, list[Fact]]:
    """One step of an assignment's due accounting.

    - the first reply counts due on its day (and on time when it met the deadline);
    - a 督办 after the reply deadline, with no reply counted, counts due and late on the deadline's day;
    - a reply sent back by the centre is not a reply any more: its count is retracted, and the next
      reply (or the deadline passing) counts instead; a late reply after the 督办 adds nothing;
    - an extension approved after the 督办 moves the deadline: the overdue count is retracted.
    """
    data = event.data or {}
    if event.action == "reply":
        if state is not None:
            return state, []
        day, on_time = _day(event.created_at), bool(data.get("on_time"))
        facts: list[Fact] = [(unit_id, "due", 1, day)]
        if on_time:
            facts.append((unit_id, "replied_on_time", 1, day))
        return ("reply", day, on_time, unit_id), facts
    if event.action == "sla.overdue":
        if state is not None or not _is_reply_overdue(event):
            return state, []
        day = _deadline_day(data) or _day(event.created_at)
        return ("overdue", day, False, unit_id), [(unit_id, "due", 1, day)]
    if state is None:
        return state, []
    how, day, on_time, counted_unit = state
    if event.action == "send_back" and how == "reply":
        facts = [(counted_unit, "due", -1, day)]
        if on_time:
            facts.append((counted_unit, "replied_on_time", -1, day))
        return None, facts
    if event.action == "approve_extension" and how == "overdue":
        return None, [(counted_unit, "due", -1, day)]
    return state, []


DueHistory = dict[int, list[TicketEvent]]  # assignment id → its due-relevant events (any order)


def due_history(assignment_ids: Iterable[int]) -> DueHistory:
    """The due-relevant events of many assignments in one query (a batch's prefetch)."""
    out: DueHistory = {pk: [] for pk in assignment_ids}
    if out:
        rows = TicketEvent.objects.filter(assignment_id__in=list(out), action__in=_DUE_ACTIONS)
        for e in rows.only("id", "assignment_id", "action", "data", "created_at"):
            out[int(e.assignment_id or 0)].append(e)
    return out


def _due_facts(event: TicketEvent, assignment_id: int, unit_id: int, history: DueHistory | None) -> list[Fact]:
    state: DueState = None
    if history is not None and assignment_id in history:
        rows = history[assignment_id]
    else:
        # The assignment's index alone, filtered and sorted here: "id < n ORDER BY id" tempts PostgreSQL
        # into reading the whole primary-key index of the event table for every event.
        query = TicketEvent.objects.filter(assignment_id=assignment_id, action__in=_DUE_ACTIONS)
        rows = list(query.only("id", "action", "data", "created_at"))
    for earlier in sorted((e for e in rows if e.id < event.id), key=lambda e: e.id):
        state, _ = due_step(state, earlier, unit_id)
    return due_step(state, event, unit_id)[1]


def is_due_event(event: TicketEvent) -> bool:
    """Whether the event's facts read its assignment's due history (for a batch's prefetch)."""
    if event.action == "sla.overdue":
        return _is_reply_overdue(event)
    return event.action in _DUE_ACTIONS


# --- 重复来电: a link between a ticket and an earlier one from the same caller ----------------


def _link_pair(event: TicketEvent) -> tuple[int, int] | None:
    """The (later, earlier) ticket ids an event links or unlinks, or None."""
    data = event.data or {}
    other = data.get("master") if event.action in ("merge", "unmerge") else data.get("earlier")
    if not other:
        return None
    rows = sorted(
        Ticket.objects.filter(Q(pk=event.ticket_id) | Q(number=other)).values_list("created_at", "id"), reverse=True
    )
    if len(rows) != 2:
        return None
    return rows[0][1], rows[1][1]


def _repeat_call_facts(later_id: int, earlier_id: int, link_event_id: int) -> list[Fact]:
    """+1 for a same-caller link within 30 days: to the centre and the earlier ticket's lead unit."""
    rows = dict(
        (pk, (phone, created))
        for pk, phone, created in Ticket.objects.filter(pk__in=[later_id, earlier_id]).values_list(
            "id", "citizen_phone", "created_at"
        )
    )
    (later_phone, later_at), (earlier_phone, earlier_at) = rows[later_id], rows[earlier_id]
    if not later_phone or later_phone != earlier_phone or later_at - earlier_at > timedelta(days=same_caller_days()):
        return []
    day = _day(later_at)
    units = [u for u in (centre_id(), lead_unit_before(earlier_id, link_event_id)) if u is not None]
    return [(u, "repeat_calls", 1, day) for u in dict.fromkeys(units)]


def _link_facts(event: TicketEvent) -> list[Fact]:
    """Counted once while the pair is linked (merge or confirmation); an unmerge retracts the count."""
    pair = _link_pair(event)
    if pair is None:
        return []
    later, earlier = pair
    active: list[Fact] | None = None  # None: not linked; otherwise the facts its link added
    history = TicketEvent.objects.filter(
        ticket_id__in=[later, earlier], id__lt=event.id, action__in=_LINK_ACTIONS
    ).order_by("id")
    out: list[Fact] = []
    for past in [*history.only("id", "ticket_id", "action", "data"), event]:
        if past is not event and _link_pair(past) != pair:
            continue
        if past.action == "unmerge":
            out = [(u, c, -n, d) for u, c, n, d in active or []]
            active = None
        elif active is None:
            active = out = _repeat_call_facts(later, earlier, past.id)
        else:
            out = []
    return out


# --- the rules ------------------------------------------------------------------------------


def _rated_unit(event: TicketEvent) -> int | None:
    unit = (event.data or {}).get("unit")
    return int(unit) if isinstance(unit, int) else lead_unit_before(event.ticket_id, event.id)


def rating_facts(unit_id: int, data: dict[str, Any], day: date, *, count_rating: bool) -> list[Fact]:
    """有效回访: only a reached citizen who answered all three questions (contact, solved, satisfaction).

    The 三率 are over valid callbacks, so a rating with an unanswered question (an SMS digit alone)
    counts among the ratings but in none of the 三率 counters until the citizen completes it.
    """
    facts: list[Fact] = [(unit_id, "ratings", 1, day)] if count_rating else []
    counter = SATISFACTION_COUNTER.get(str(data.get("satisfaction")))
    valid = isinstance(data.get("contacted"), bool) and isinstance(data.get("solved"), bool) and counter
    if not valid:
        return facts
    facts.append((unit_id, "valid_callbacks", 1, day))
    if data.get("contacted"):
        facts.append((unit_id, "contacted", 1, day))
    if data.get("solved"):
        facts.append((unit_id, "solved", 1, day))
    facts.append((unit_id, str(counter), 1, day))
    return facts


LedHistory = dict[tuple[int, int], int]  # (ticket, unit) → the id of its first top-level lead assignment_created


def led_history(ticket_ids: Iterable[int]) -> LedHistory:
    """Each (ticket, unit)'s first top-level lead dispatch, for a batch of tickets in one read (not
    one per dispatch; see `_lead_dispatches` for its shape)."""
    first: LedHistory = {}
    for ticket_id, unit_id, event_id in _lead_dispatches(ticket_ids):
        first.setdefault((ticket_id, unit_id), event_id)  # oldest first
    return first


def _led_before(event: TicketEvent, unit_id: int, led: LedHistory | None) -> bool:
    # One event on its own (a person's 派单, a routing batch of one ticket) reads its ticket's history
    # as a batch does (`_lead_dispatches`).
    led = led_history([event.ticket_id]) if led is None else led
    return led.get((event.ticket_id, unit_id), event.id) < event.id


def event_facts(event: TicketEvent, *, history: DueHistory | None = None, led: LedHistory | None = None) -> list[Fact]:
    """What one event adds to the scorecards (`history`, `led`: a batch's prefetched histories)."""
    action, data = event.action, event.data or {}
    day = _day(event.created_at)
    assignment = event.assignment if event.assignment_id else None
    if assignment is not None:
        unit_id = assignment.unit_id
        if action == "assignment_created":
            facts: list[Fact] = [(unit_id, "dispatched", 1, day)]
            if assignment.is_top_lead and not _led_before(event, unit_id, led):
                facts.append((unit_id, "led", 1, day))
            return facts
        if action == "sign":
            return [(unit_id, "signed_on_time", 1, day)] if data.get("on_time") else []
        if action in _DUE_ACTIONS:
            if action == "sla.overdue" and not _is_reply_overdue(event):
                return []  # 催办/sign-clock notices: no history read for them
            return _due_facts(event, assignment.pk, unit_id, history)
        if action == "approve_return":
            return [(unit_id, "returns_approved", 1, day)]
    if action in ("created", "complete_draft") and event.to_state == "registered":
        centre = centre_id()
        return [(centre, "accepted", 1, day)] if centre else []
    if action == "answer_directly":
        centre = centre_id()
        return [(centre, "answered_directly", 1, day)] if centre else []
    if action in _LINK_ACTIONS:
        return _link_facts(event)
    if action in ("rated", "rating_completed"):
        rated = _rated_unit(event)
        if rated is None:
            return []
        return rating_facts(rated, data, day, count_rating=action == "rated")
    if action not in ("close", "reopen"):
        return []
    lead = lead_unit_before(event.ticket_id, event.id)
    if lead is None:
        return []
    if action == "reopen":
        return [(lead, "reopened", 1, day)]
    facts = [(lead, "closed", 1, day)]
    if not _earlier(event, "reopen", "approve_return"):
        facts.append((lead, "closed_first_time", 1, day))
    return facts
