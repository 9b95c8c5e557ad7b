"""统一接收: every channel ends here — one ticket store, one numbering scheme, one routing step."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from tickets.core.actors import Actor
from tickets.core.memo import memo_scope
from tickets.core.models import Kind, RouteState, Ticket, TicketEvent, Urgency
from tickets.core.services import workflow
from tickets.core.services.events import EventSpec, event_record, event_record_deferred, events_batched
from tickets.core.services.numbering import ticket_number_next
from tickets.core.states import ENDED_TICKET_STATES, TicketState
from tickets.core.text import PHONE_RAW_MAX, normalise_phone, normalise_text, text_checked, ticket_texts_check
from tickets.duplicates.services import duplicates  # 并单: the fingerprint makes later duplicate lookups indexed
from tickets.errors import InvalidInput, TransitionNotAllowed
from tickets.intake.services import ratelimit, routing_batch, routing_wake
from tickets.messaging.services import citizen_notifications
from tickets.org.models import Category, Unit
from tickets.routing.services import catalogue, classification, gazetteer

log = logging.getLogger(__name__)


def ticket_create(
    *,
    actor: Actor,
    channel: str,
    text: str,
    kind: str = Kind.HELP,
    urgency: str = Urgency.NORMAL,
    title: str = "",
    citizen_name: str = "",
    citizen_phone: str = "",
    citizen_address: str = "",
    confidential: bool = False,
    anonymous: bool = False,
    jurisdiction: Unit | None = None,
    category: Category | None = None,
    draft: bool = False,
    external_ref: str = "",
    raw: dict[str, Any] | None = None,
    auto_route: bool = True,
    client_ip: str = "",
    notify: bool = True,
) -> Ticket:
    """受理: store the ticket and its `created` event with the raw inbound message; routing follows.

    The accepting transaction writes the number, the ticket row and that event, nothing else: the
    ticket then waits in the routing queue (`route_state`), routed in batches by the routing worker
    (`routing_batch`), which also sends the 受理 SMS (naming the unit) and stores the fingerprint.
    Drafts and tickets filed with `auto_route=False` skip the queue: they are told and fingerprinted
    here. Citizen channels (anyone but signed-in staff) are rate-limited per number and per address;
    the SMS channel answers in its own reply instead of a 受理 SMS.
    """
    fields = ticket_texts_check(
        {"title": title, "text": text, "citizen_name": citizen_name, "citizen_address": citizen_address}, draft=draft
    )
    text_checked(citizen_phone, field="citizen_phone", max_length=PHONE_RAW_MAX, label="联系电话")
    # The number is taken first, in its own statement, when no transaction is open yet: the
    # sequence row's lock then lasts one statement. Taken inside the intake's transaction it
    # would be held until the commit and every intake in the city would wait for the one before
    # (measured: the cap on intake throughput). A failed intake leaves a gap in the day's
    # numbers; numbers stay unique and increasing. Callers inside their own transaction (the SMS
    # webhook, the citizen form) take it inside, as before.
    phone = normalise_phone(citizen_phone)
    if not actor.is_user:
        _abuse_check(phone=phone, client_ip=client_ip)  # before a number is spent on a refused intake
    number = None if transaction.get_connection().in_atomic_block else ticket_number_next()
    with memo_scope():  # the profile, policy, category, centre and opt-out are read once
        ticket = _ticket_create(
            number=number,
            actor=actor, channel=channel, kind=kind, urgency=urgency, citizen_phone=phone, **fields,
            confidential=confidential, anonymous=anonymous, jurisdiction=jurisdiction, category=category,
            draft=draft, external_ref=external_ref, raw=raw, auto_route=auto_route, notify=notify,
        )  # fmt: skip
    if ticket.route_state == RouteState.DONE:
        return ticket
    if settings.ROUTING_INLINE:
        # The embedded default: the same router, in this process, right after the commit (or, inside
        # a caller's transaction, right away in it): the demo behaves as a deployment with a worker.
        if transaction.get_connection().in_atomic_block:
            routed = routing_batch.tickets_route_pending(ids=[ticket.pk])
            return routed[0] if routed else ticket
        try:
            routed = routing_batch.tickets_route_pending(ids=[ticket.pk])
        except DatabaseError as exc:
            # The ticket is committed: an answer of 500 or 503 now would make the caller file it a
            # second time. It waits in the routing queue; the periodic run routes it (routing-run).
            log.warning("ticket %s accepted, routing deferred: %s", ticket.number, exc)
            return ticket
        return routed[0] if routed else ticket
    transaction.on_commit(routing_wake.routing_wake, robust=True)
    return ticket


def _ticket_create(
    *,
    number: str | None,
    actor: Actor,
    channel: str,
    text: str,
    kind: str,
    urgency: str,
    title: str,
    citizen_name: str,
    citizen_phone: str,
    citizen_address: str,
    confidential: bool,
    anonymous: bool,
    jurisdiction: Unit | None,
    category: Category | None,
    draft: bool,
    external_ref: str,
    raw: dict[str, Any] | None,
    auto_route: bool,
    notify: bool,
) -> Ticket:
    text = normalise_text(text)
    title = normalise_text(title) or text[:30]
    queued = auto_route and not draft
    # Told (受理) by the router when it routes, unless the caller tells the citizen itself (notify=False).
    route_state = (RouteState.PENDING if notify else RouteState.TOLD) if queued else RouteState.DONE
    ticket = Ticket(
        number=number or ticket_number_next(),
        channel=channel,
        kind=kind,
        urgency=urgency,
        title=title,
        text=text,
        citizen_name=normalise_text(citizen_name),
        citizen_phone=citizen_phone,  # normalised (and the abuse limits checked) by ticket_create
        citizen_address=normalise_text(citizen_address),
        confidential=confidential,
        anonymous=anonymous,
        jurisdiction=jurisdiction,
        category=category,
        state=TicketState.DRAFT if draft else TicketState.REGISTERED,
        external_ref=external_ref,
        created_by=actor.user,
        route_state=route_state,
    )
    spec = EventSpec(
        ticket, actor, "created", to_state=ticket.state, data={"channel": channel, **({"raw": raw} if raw else {})}
    )
    # Queued, the accepting transaction is the ticket and its `created` event only (one statement on
    # PostgreSQL); the event is counted and pushed live by the routing batch, with its routing.
    created = event_record_deferred(spec) if queued else _ticket_store_told(ticket, spec, notify=notify)
    ticket.accepted_history = [created]  # type: ignore[attr-defined]  # the 201 answer, without reading back
    return ticket


@transaction.atomic
@events_batched()
def _ticket_store_told(ticket: Ticket, spec: EventSpec, *, notify: bool) -> TicketEvent:
    """A draft, or a ticket its caller routes itself: stored with its `created` event, the citizen
    told and the fingerprint kept here, in one transaction."""
    ticket.save(force_insert=True)
    created = event_record(**vars(spec))
    if notify:
        citizen_notifications.ticket_received(ticket=ticket)
    duplicates.ticket_fingerprint_store(ticket=ticket, new=True)
    return created


def _abuse_check(*, phone: str, client_ip: str) -> None:
    """恶意/刷单 protection: too many tickets from one number or address within the window."""
    message = "提交过于频繁，请稍后再试或拨打12345热线"
    ratelimit.check("intake-phone", phone, settings.INTAKE_LIMIT_PER_PHONE, message)
    ratelimit.check("intake-ip", client_ip, settings.INTAKE_LIMIT_PER_IP, message)


def ticket_route(*, ticket: Ticket, dispatch_notice: bool = True) -> Ticket:
    """按责转办: place, category, then the catalogue; dispatch automatically only when sure.

    The jurisdiction comes from the address or text when the operator gave none; the category
    from the classifier when the operator gave none, and only above the confidence threshold.
    Everything else waits in the dispatcher queue with the top suggestions.
    """
    actor = Actor.system("routing")
    if ticket.jurisdiction_id is None:
        place = gazetteer.jurisdiction_find(text=ticket.text, address=ticket.citizen_address)
        if place is not None:
            Ticket.objects.filter(pk=ticket.pk).update(jurisdiction=place)
            ticket.jurisdiction = place
            event_record(
                ticket=ticket, actor=actor, action="jurisdiction_found", data={"unit": place.code, "name": place.name}
            )
    if ticket.category_id is None:
        prediction = classification.ticket_predict(ticket)
        choice = classification.category_choose(prediction, classification.classification_record(prediction))
        changes: dict[str, object] = {"classification": choice.record}
        if choice.sure:
            changes |= {"category": choice.category, "category_source": "classifier"}
        Ticket.objects.filter(pk=ticket.pk).update(**changes)
        for name, value in changes.items():
            setattr(ticket, name, value)
        event_record(ticket=ticket, actor=choice.robot, action="classified", data=choice.record)
        if not choice.sure:
            return workflow.ticket_await_dispatch(
                ticket=ticket, actor=choice.robot, reason=choice.reason, data=choice.record
            )
        actor = choice.robot
    route = catalogue.route_for_ticket(ticket)
    if route is None or ticket.category is None:
        return workflow.ticket_await_dispatch(ticket=ticket, actor=actor, reason=catalogue.NO_ROUTE_REASON)
    return workflow.ticket_dispatch(
        ticket=ticket,
        actor=actor,
        lead_unit=route.lead_unit,
        assisting_units=route.assisting_units,
        note=route.basis,
        notify=dispatch_notice,
    )


@transaction.atomic
def ticket_append_message(*, ticket: Ticket, text: str, actor: Actor, raw: dict[str, Any] | None = None) -> Ticket:
    """A further part of the same matter (a split SMS, a second utterance) joins the open draft."""
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    addition = normalise_text(text)
    if not addition:
        return ticket
    combined = f"{ticket.text}\n{addition}" if ticket.text else addition
    ticket.text = truncate_text(combined)
    Ticket.objects.filter(pk=ticket.pk).update(text=ticket.text)
    event_record(
        ticket=ticket,
        actor=actor,
        action="message_appended",
        data={"length": len(addition), **({"raw": raw} if raw else {})},
    )
    duplicates.ticket_fingerprint_store(ticket=ticket)  # the text grew: keep the duplicate lookup current
    return ticket


@transaction.atomic
def ticket_supplement(*, ticket: Ticket, text: str, channel: str) -> Ticket:
    """市民补充: a citizen adds to their own open matter (the citizen pages, the app). The words join
    the ticket's text, marked with the time, so the unit reads them where it reads the matter; the
    event (`message_appended`) keeps them as sent. Refused, changing nothing, once the ticket has
    ended (a new matter is a new ticket) or when the text would no longer fit."""
    words = text_checked(text, field="text", max_length=settings.SUPPLEMENT_MAX, min_length=2, label="补充内容")
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.state == TicketState.MERGED:  # its words would join another citizen's ticket
        raise TransitionNotAllowed(
            "该诉求已与同一事项的其他诉求合并办理，不能在线补充；如需补充，请拨打12345热线", rule="ticket_merged"
        )
    if ticket.state in ENDED_TICKET_STATES:
        raise TransitionNotAllowed("该诉求已办结，不能再补充；如有新的情况，请重新提交诉求", rule="ticket_ended")
    stamp = timezone.localtime().strftime("%m-%d %H:%M")
    addition = f"【市民补充 {stamp}】{normalise_text(words)}"
    room = settings.TICKET_TEXT_MAX - len(ticket.text) - 1
    if len(addition) > room:
        left = max(room - len(addition) + len(words), 0)
        raise InvalidInput(f"补充内容过长：本诉求还可补充约 {left} 个字", field="text", rule="max_length")
    ratelimit.check("supplement", ticket.number, settings.SUPPLEMENT_LIMIT_PER_TICKET, "补充过于频繁，请稍后再试")
    return ticket_append_message(ticket=ticket, text=addition, actor=Actor.citizen(), raw={"channel": channel})


TRUNCATED_MARK = "【内容过长已截断，原文见来信记录】"


def message_text(raw: str) -> str:
    """A citizen's words from a door that cannot answer "400" (an SMS, a transcribed call): control
    characters dropped and cut to TICKET_TEXT_MAX, so the ticket rule accepts it; the original stays
    in the raw payload."""
    return truncate_text(normalise_text(raw))


def truncate_text(text: str) -> str:
    """Keep a ticket's text within TICKET_TEXT_MAX; the full original stays in the raw payload."""
    limit = settings.TICKET_TEXT_MAX
    if len(text) <= limit:
        return text
    return text[: limit - len(TRUNCATED_MARK)] + TRUNCATED_MARK
