"""Who reacts to which event: the one table.

The workflow (and every other service that records history) only changes state and records
events. What follows from an event in other domains is listed here, each reaction a one-line call
into its domain's service, run inside the operation's transaction after the operation's own
writes, in the order written. Flags travel with the event as context (`notify=False`: the intake
tells the citizen itself). This is the only module that imports every reacting domain; it is
installed when Django is ready (`TicketsConfig.ready`), so nothing imports it back.

Every event (recorded one at a time, or together inside `events_batched()`):
    scorecard counters (tickets.metrics.services.scorecards), then the live push (channels_app.broadcast:
    an outbox row now, the push after commit).

By action, after the operation that recorded it:
    assignment_created  日历缺失: alert admins and mark the ticket when a deadline reaches into
                        a year with no calendar data (sla_clock)
    dispatch            转办告知 SMS naming the unit, unless notify=False (notifications)
    answer_directly     the answer by SMS, unless notify=False (notifications)
    mark_out_of_scope   不予派单告知 SMS: the outcome and its reason; none for 恶意来电 (notifications)
    approve_extension   延期告知 SMS: the new 办结时限 and the unit's reason, for the ticket's own 主办
                        assignment only; a 协办/下派 deadline is not the citizen's (notifications)
    return_to_queue     问题工单 check: passed through N units (supervision)
    reopen              问题工单 check: re-handled N times (supervision); the last round's open 回访
                        tasks leave the operators' queue (rating)
    request_rating      rating invitation SMS (notifications), the rating round and 回访 task
                        (rating), each merged child's own round (rating)
    close               merged children follow the master, and their citizens are told (duplicates);
                        the ticket's open 回访 tasks leave the operators' queue (rating)
    merge               the pair becomes a confirmed duplicate link (duplicates); a child joining a
                        master already in rating is asked to rate at once (rating); the child's
                        citizen is told by SMS (notifications)
    unmerge             the duplicate link is revoked (duplicates); the child's citizen is told by
                        SMS that it is handled on its own again (notifications)
    complete_draft      the fingerprint follows the completed text (duplicates)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from channels_app import broadcast
from tickets.core.models import TicketEvent
from tickets.core.services.events import Reaction, ReactionTable, reactions_install
from tickets.core.states import TicketState
from tickets.duplicates.services import duplicates
from tickets.feedback.services import callbacks, rating
from tickets.messaging.services import citizen_notifications
from tickets.metrics.services import scorecards
from tickets.sla.services import clock
from tickets.supervision.services import supervision

Context = Mapping[str, Any]


def _scorecards(events: Sequence[TicketEvent]) -> None:
    scorecards.metrics_apply_events(events)


def _live_push(events: Sequence[TicketEvent]) -> None:
    broadcast.events_enqueue(events)


def _calendar_gap(event: TicketEvent, context: Context) -> None:
    if event.data.get("calendar_gap") and event.assignment is not None:
        clock.calendar_gap_flag(assignment=event.assignment)


def _tell_citizen_dispatched(event: TicketEvent, context: Context) -> None:
    if context.get("notify", True) and event.ticket.lead_unit is not None:
        citizen_notifications.ticket_dispatched(ticket=event.ticket, lead_unit=event.ticket.lead_unit)


def _tell_citizen_answer(event: TicketEvent, context: Context) -> None:
    if context.get("notify", True):
        citizen_notifications.ticket_answered(ticket=event.ticket, answer=event.reason)


def _tell_citizen_out_of_scope(event: TicketEvent, context: Context) -> None:
    outcome = event.data.get("outcome", "")
    citizen_notifications.ticket_out_of_scope(ticket=event.ticket, outcome=outcome, reason=event.reason)


def _tell_citizen_extended(event: TicketEvent, context: Context) -> None:
    assignment = event.assignment
    if assignment is not None and assignment.is_top_lead:
        citizen_notifications.ticket_extended(
            ticket=event.ticket, due_at=assignment.reply_due_at, reason=assignment.extension_reason
        )


def _problem_check(event: TicketEvent, context: Context) -> None:
    supervision.ticket_check_problem(ticket=event.ticket, actor=context["actor"])


def _ask_for_rating(event: TicketEvent, context: Context) -> None:
    rating.rating_requested(ticket=event.ticket)


def _open_rating_round(event: TicketEvent, context: Context) -> None:
    rating.rating_request_open(ticket=event.ticket)


def _drop_open_callbacks(event: TicketEvent, context: Context) -> None:
    note = "工单已办结，无需回访" if event.action == "close" else "工单已重办，本轮无需回访"
    callbacks.callbacks_drop_open(ticket=event.ticket, note=note)


def _open_children_rating_rounds(event: TicketEvent, context: Context) -> None:
    rating.merged_children_rating_open(master=event.ticket)


def _children_follow_master(event: TicketEvent, context: Context) -> None:
    duplicates.merged_children_master_closed(
        master=event.ticket, actor=context["actor"], reason=event.reason, outcome=event.ticket.outcome
    )


def _link_merged_pair(event: TicketEvent, context: Context) -> None:
    duplicates.merge_link_record(ticket=event.ticket, master=context["master"], actor=context["actor"])


def _late_child_rates_at_once(event: TicketEvent, context: Context) -> None:
    if context["master"].state == TicketState.RATING:  # joined after the master's reply was accepted
        rating.merged_child_rating_open(child=event.ticket, master=context["master"])


def _tell_child_merged(event: TicketEvent, context: Context) -> None:
    citizen_notifications.ticket_merged(child=event.ticket, master=context["master"])


def _tell_child_unmerged(event: TicketEvent, context: Context) -> None:
    citizen_notifications.ticket_unmerged(child=event.ticket)


def _unlink_pair(event: TicketEvent, context: Context) -> None:
    duplicates.merge_link_revoke(ticket=event.ticket, master=context.get("master"))


def _fingerprint_follows_text(event: TicketEvent, context: Context) -> None:
    if {"text", "title"} & set(event.data.get("fields", ())):
        duplicates.ticket_fingerprint_store(ticket=event.ticket)


BY_ACTION: dict[str, tuple[Reaction, ...]] = {
    "assignment_created": (_calendar_gap,),
    "dispatch": (_tell_citizen_dispatched,),
    "answer_directly": (_tell_citizen_answer,),
    "mark_out_of_scope": (_tell_citizen_out_of_scope,),
    "approve_extension": (_tell_citizen_extended,),
    "return_to_queue": (_problem_check,),
    "reopen": (_problem_check, _drop_open_callbacks),
    "request_rating": (_ask_for_rating, _open_rating_round, _open_children_rating_rounds),
    "close": (_children_follow_master, _drop_open_callbacks),
    "merge": (_link_merged_pair, _late_child_rates_at_once, _tell_child_merged),
    "unmerge": (_unlink_pair, _tell_child_unmerged),
    "complete_draft": (_fingerprint_follows_text,),
}

TABLE = ReactionTable(every_event=(_scorecards, _live_push), by_action=BY_ACTION)


def install() -> None:
    reactions_install(TABLE)
