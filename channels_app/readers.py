"""Who is listening, and what of an event they may read. Pure functions, no queries.

The consumer and the catch-up API both call `payload_for_reader`, so a socket and a replay
from the cursor never disagree about what a reader sees (domain.md §7): unit staff get only
tickets of their unit or its descendants, and every citizen field and free text of a payload
is cut by `tickets.core.privacy` for the reader (masked numbers; nothing of the citizen on a
保密/匿名 ticket).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from channels_app import payloads as p
from channels_app.groups import role_group, seat_group, unit_group
from tickets.core import privacy
from tickets.org.models import Role, User

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
    return [role_group(reader.audience), seat_group(reader.user.pk)]


def reaches_unit(reader: Reader, unit_paths: list[str]) -> bool:
    """The same rule as `tickets.core.selectors._unit_scope`: an assignment at or below my unit."""
    return any(path.startswith(reader.unit_path) for path in unit_paths)


# Payload fields written as free text (they may quote the citizen, e.g. a notice quotes the title).
FREE_TEXT = ("reason", "note", "text_excerpt", "legal_basis")


def _cut(payload: dict[str, Any], reader: Reader) -> dict[str, Any]:
    """The payload's citizen fields and free text as `tickets.core.privacy` lets this reader see them."""
    ref = cast(p.TicketRef, payload["ticket"])
    shadow = privacy.CitizenFields(**{name: ref[name] for name in privacy.CITIZEN_FIELDS})  # type: ignore[literal-required]
    out = dict(payload)
    out["ticket"] = {
        **ref,
        **privacy.citizen_view(shadow, reader.user),
        "title": privacy.citizen_text(ref["title"], shadow, reader.user),
    }
    for key in FREE_TEXT:
        if isinstance(out.get(key), str):
            out[key] = privacy.citizen_text(out[key], shadow, reader.user)
    return out


def payload_for_reader(envelope: p.Envelope, reader: Reader, *, watching: bool = False) -> p.LivePayload | None:
    """The payload this reader may receive, or None. `watching`: subscribed to this ticket."""
    payload = envelope["payload"]
    kind = payload["type"]
    if kind == p.CALL_BRIDGED:
        bridged = cast(p.CallBridged, payload)
        if bridged["operator"] != reader.user.pk:
            return None
        phone = privacy.phone_for(bridged["phone"], reader.user)
        return cast(p.LivePayload, {**bridged, "phone": phone, "phone_display": privacy.phone_display(phone)})
    if kind == p.WALLBOARD:
        return payload if reader.audience in p.AUDIENCE[kind] else None
    if kind == p.CALL_INCOMING:
        if reader.audience not in p.AUDIENCE[kind]:
            return None
        call = cast(p.CallIncoming, payload)
        return cast(p.LivePayload, {**call, "phone": privacy.phone_for(call["phone"], reader.user)})
    if not (watching or reader.audience in p.AUDIENCE.get(kind, frozenset())):
        return None
    if reader.audience == p.UNIT and not reaches_unit(reader, envelope["unit_paths"]):
        return None
    return cast(p.LivePayload, _cut(cast(dict[str, Any], payload), reader))
