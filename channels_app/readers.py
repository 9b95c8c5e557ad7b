"""Who is listening, and what of an event they may read. Pure functions, no queries.

The consumer and the catch-up API both call `payload_for_reader`, so a socket and a replay
from the cursor never disagree about what a reader sees (domain.md §7): unit staff get only
tickets of their unit or its descendants, masked phone numbers, and nothing of the citizen on
a 保密/匿名 ticket.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, cast

from channels_app import payloads as p
from channels_app.groups import role_group, unit_group
from tickets.models import Role, Ticket, User
from tickets.privacy import citizen_view

CENTRE_AUDIENCE = {
    Role.OPERATOR: p.OPERATOR,
    Role.DISPATCHER: p.DISPATCHER,
    Role.SUPERVISOR: p.SUPERVISOR,
    Role.ADMIN: p.SUPERVISOR,  # admins watch like supervisors: everything, nothing to act on
}


@dataclass(frozen=True)
class Reader:
    user: User
    audience: str  # operator / dispatcher / supervisor / unit
    unit_path: str = ""  # unit readers only
    unit_code: str = ""


def reader_for(user: User) -> Reader | None:
    """None for a user who has no live feed (unit staff without a unit, unknown roles)."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Reader(user, p.SUPERVISOR)
    if user.is_unit_staff:
        unit = user.unit
        if unit is None:
            return None
        return Reader(user, p.UNIT, unit_path=unit.path, unit_code=unit.code)
    audience = CENTRE_AUDIENCE.get(user.role)  # type: ignore[call-overload]
    return Reader(user, audience) if audience else None


def groups_for_reader(reader: Reader) -> list[str]:
    if reader.audience == p.UNIT:
        return [unit_group(reader.unit_code)]
    return [role_group(reader.audience)]


def reaches_unit(reader: Reader, unit_paths: list[str]) -> bool:
    """The same rule as `tickets.selectors._unit_scope`: an assignment at or below my unit."""
    return any(path.startswith(reader.unit_path) for path in unit_paths)


def _citizen_cut(ticket: p.TicketRef, reader: Reader) -> p.TicketRef:
    shadow = Ticket(
        citizen_name=ticket["citizen_name"],
        citizen_phone=ticket["citizen_phone"],
        citizen_address=ticket["citizen_address"],
        confidential=ticket["confidential"],
        anonymous=ticket["anonymous"],
    )
    return cast(p.TicketRef, {**ticket, **citizen_view(shadow, reader.user)})


def payload_for_reader(envelope: p.Envelope, reader: Reader, *, watching: bool = False) -> p.LivePayload | None:
    """The payload this reader may receive, or None. `watching`: subscribed to this ticket."""
    payload = envelope["payload"]
    kind = payload["type"]
    if kind == p.CALL_INCOMING:
        return payload if reader.audience in p.AUDIENCE[kind] else None
    if not (watching or reader.audience in p.AUDIENCE.get(kind, frozenset())):
        return None
    if reader.audience == p.UNIT and not reaches_unit(reader, envelope["unit_paths"]):
        return None
    out: dict[str, Any] = copy.copy(cast(dict[str, Any], payload))
    out["ticket"] = _citizen_cut(cast(p.TicketEventPayload, payload)["ticket"], reader)
    return cast(p.LivePayload, out)
