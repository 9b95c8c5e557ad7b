"""TicketEvent rows → envelopes (the full payload plus the ticket's unit paths). Reads only.

The broadcast helper builds one envelope right after commit; the catch-up API builds a page of
them from history. Both go through `envelopes_build`, so a missed event replayed from the
cursor has exactly the shape the socket would have sent.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, cast

from channels_app import payloads as p
from tickets.core import privacy
from tickets.core.memo import memoised_many
from tickets.core.models import Assignment, Ticket, TicketEvent
from tickets.org.models import Unit

EXCERPT = 200


def _iso(value: datetime | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    # In UTC, as the database gives them back: a deadline still in hand may be in local time.
    return (value.astimezone(UTC) if value.tzinfo is not None else value).isoformat()


def _as_stored(value: Any) -> Any:
    """A JSON field's value as the database gives it back (tuples become lists, and so on)."""
    return json.loads(json.dumps(value)) if value is not None else None


def _unit_ref(unit: Unit | None) -> p.UnitRef | None:
    return p.UnitRef(code=unit.code, name=unit.name) if unit is not None else None


def assignment_ref(assignment: Assignment) -> p.AssignmentRef:
    return p.AssignmentRef(
        id=assignment.pk,
        unit=p.UnitRef(code=assignment.unit.code, name=assignment.unit.name),
        role=assignment.role,
        state=assignment.state,
        sign_due_at=_iso(assignment.sign_due_at),
        reply_due_at=_iso(assignment.reply_due_at),
    )


def ticket_ref(ticket: Ticket) -> p.TicketRef:
    """The full (centre) view; `readers.payload_for_reader` cuts the citizen fields down."""
    return p.TicketRef(
        id=ticket.pk,
        number=ticket.number,
        title=ticket.title,
        kind=ticket.kind,
        urgency=ticket.urgency,
        state=ticket.state,
        category=ticket.category.name if ticket.category else None,
        lead_unit=_unit_ref(ticket.lead_unit),
        due_at=_iso(ticket.due_at),
        is_problem=ticket.is_problem,
        is_flagged=ticket.is_flagged,
        confidential=ticket.confidential,
        anonymous=ticket.anonymous,
        citizen_name=ticket.citizen_name,
        citizen_phone=ticket.citizen_phone,
        citizen_address=ticket.citizen_address,
        phone_masked=False,
    )


def _suggestions(ticket: Ticket, data: Mapping[str, Any], in_memory: bool) -> list[dict[str, object]]:
    found = data.get("suggestions")
    classification = _as_stored(ticket.classification) if in_memory else ticket.classification
    if found is None and isinstance(classification, dict):
        found = classification.get("suggestions") or classification.get("top")
    return [dict(s) for s in found if isinstance(s, Mapping)][:5] if isinstance(found, list) else []


def _bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _payload(event: TicketEvent, kind: str, units: Mapping[str, Unit], in_memory: bool) -> p.LivePayload | None:
    data: Mapping[str, Any] = (_as_stored(event.data) if in_memory else event.data) or {}
    ticket = event.ticket
    base: dict[str, Any] = {
        "type": kind,
        "cursor": event.pk,
        "at": _iso(event.created_at),
        "actor": privacy.event_actor(event),  # the same for every reader: never a citizen's number
        "ticket": ticket_ref(ticket),
    }
    asg = assignment_ref(event.assignment) if event.assignment is not None else None
    if kind == p.TICKET_CREATED:
        return cast(p.TicketCreated, {**base, "channel": str(data.get("channel") or ticket.channel)})
    if kind == p.TICKET_DISPATCHED:
        if event.action == "assignment_created":
            if event.assignment is None or event.assignment.parent_id is None:
                return None  # a top-level assignment: its `dispatch` event is the news
            return cast(
                p.TicketDispatched,
                {
                    **base,
                    "how": "redispatch",
                    "lead_unit": _unit_ref(ticket.lead_unit),
                    "assisting_units": [],
                    "assignment": asg,
                    "note": event.reason,
                },
            )
        lead = units.get(str(data.get("lead_unit", "")))
        assisting = [units[c] for c in data.get("assisting_units", []) if c in units]
        return cast(
            p.TicketDispatched,
            {
                **base,
                "how": "dispatch",
                "lead_unit": _unit_ref(lead),
                "assisting_units": [_unit_ref(u) for u in assisting],
                "assignment": None,
                "note": event.reason,
            },
        )
    if kind == p.TICKET_NEEDS_DISPATCH:
        suggestions = _suggestions(ticket, data, in_memory)
        return cast(p.TicketNeedsDispatch, {**base, "reason": event.reason, "suggestions": suggestions})
    if kind in (p.ASSIGNMENT_SIGNED, p.ASSIGNMENT_REPLIED) and asg is None:
        return None
    if kind == p.ASSIGNMENT_SIGNED:
        return cast(p.AssignmentSigned, {**base, "assignment": asg, "on_time": _bool(data.get("on_time"))})
    if kind == p.ASSIGNMENT_REPLIED:
        text = event.assignment.reply_text if event.assignment is not None else ""
        return cast(
            p.AssignmentReplied,
            {**base, "assignment": asg, "on_time": _bool(data.get("on_time")), "text_excerpt": text[:EXCERPT]},
        )
    if kind == p.ASSIGNMENT_RETURN_REQUESTED:
        return cast(
            p.AssignmentReturnRequested,
            {**base, "assignment": asg, "reason": event.reason, "legal_basis": str(data.get("legal_basis", ""))},
        )
    if kind == p.ASSIGNMENT_EXTENSION_REQUESTED:
        until = data.get("until") or (_iso(event.assignment.extension_until) if event.assignment else None)
        return cast(p.AssignmentExtensionRequested, {**base, "assignment": asg, "until": until, "reason": event.reason})
    if kind in (p.SLA_WARNING, p.SLA_OVERDUE):
        clock = str(data.get("clock") or ("reply" if asg else "ticket"))
        due = data.get("due_at") or cast(dict[str, Any], asg or {}).get(f"{clock}_due_at") or _iso(ticket.due_at)
        return cast(p.SlaNotice, {**base, "assignment": asg, "clock": clock, "due_at": due})
    if kind == p.SUPERVISION_ISSUED:
        level = str(data.get("level") or ("escalated" if event.action == "escalated_problem" else event.action))
        return cast(p.SupervisionIssued, {**base, "assignment": asg, "level": level, "reason": event.reason})
    if kind == p.RATING_RECEIVED:
        return cast(
            p.RatingReceived,
            {
                **base,
                "satisfaction": str(data.get("satisfaction", "")),
                "solved": _bool(data.get("solved")),
                "contacted": _bool(data.get("contacted")),
            },
        )
    if kind == p.HOTSPOT_SURGE:
        return cast(
            p.HotspotSurge,
            {
                **base,
                "alert": int(data.get("alert") or 0),
                "label": str(data.get("label", "")),
                "count": int(data.get("count") or 0),
                "baseline_per_day": float(data.get("baseline_per_day") or 0.0),
                "tickets": [int(i) for i in data.get("tickets", [])][:50],
            },
        )
    return cast(
        p.TicketChanged,
        {
            **base,
            "action": event.action,
            "from_state": event.from_state,
            "to_state": event.to_state,
            "reason": event.reason,
        },
    )


def _units_by_code(codes: set[str]) -> dict[str, Unit]:
    """The dispatch events' units (reference data: kept per process while unchanged, `tickets.core.memo`)."""

    def load(keys: list[tuple[str, str]]) -> dict[tuple[str, str], Unit]:
        return {("unit_code", u.code): u for u in Unit.objects.filter(code__in=[code for _, code in keys])}

    kept = memoised_many([("unit_code", code) for code in sorted(codes)], load, reference=True)
    return {code: unit for (_, code), unit in kept.items() if unit is not None}


def envelopes_build(events: Iterable[TicketEvent], *, in_memory: Collection[int] = ()) -> list[p.Envelope]:
    """Envelopes for events (in the given order); silent or no-news events are left out.

    A handful of queries per page however long: unit paths and unit names are fetched in bulk.
    `in_memory`: ids of events that were not read back from the database (a routing batch's, with
    their tickets and assignments as the batch wrote them); their JSON fields are read as stored.
    """
    rows = list(events)
    ticket_ids = {e.ticket_id for e in rows}
    paths: dict[int, set[str]] = defaultdict(set)
    for ticket_id, path in Assignment.objects.filter(ticket_id__in=ticket_ids).values_list("ticket_id", "unit_path"):
        paths[ticket_id].add(path)
    codes = {
        str(c)
        for e in rows
        if e.action == "dispatch"
        for c in [(e.data or {}).get("lead_unit"), *(e.data or {}).get("assisting_units", [])]
        if c
    }
    units = _units_by_code(codes)
    out: list[p.Envelope] = []
    for event in rows:
        kind = p.type_of_action(event.action)
        if kind is None:
            continue
        payload = _payload(event, kind, units, event.pk in in_memory)
        if payload is not None:
            out.append(p.Envelope(payload=payload, unit_paths=sorted(paths[event.ticket_id])))
    return out


def event_rows() -> Any:
    """TicketEvent queryset with everything an envelope reads, joined in one query."""
    return TicketEvent.objects.select_related(
        "actor",
        "ticket__category",
        "ticket__lead_unit",
        "assignment__unit",
    )
