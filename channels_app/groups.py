"""Group names of the live feed.

One group per centre role, one per unit, one per watched ticket, one per user (revoked
logins) and one per centre user's seat (the caller bridged to them). A unit's group
receives the events of every ticket assigned to it or to any of its descendants (a district
sees what its streets handle), so the broadcast sends to each unit code on an assignment's path.
"""

from __future__ import annotations

from channels_app.payloads import DISPATCHER, OPERATOR, SUPERVISOR

ROLE_GROUPS = {OPERATOR: "role.operator", DISPATCHER: "role.dispatcher", SUPERVISOR: "role.supervisor"}


def role_group(audience: str) -> str:
    return ROLE_GROUPS[audience]


def unit_group(unit_code: str) -> str:
    return f"unit.{unit_code}"


def user_group(user_id: int) -> str:
    """Every socket of one user: told to close when the user's login is revoked."""
    return f"user.{user_id}"


def seat_group(user_id: int) -> str:
    """One operator's seat: the 来电弹屏 of the caller bridged to them, and nobody else's."""
    return f"seat.{user_id}"


def ticket_group(ticket_id: int) -> str:
    return f"ticket.{ticket_id}"


def unit_codes_on_paths(paths: list[str]) -> list[str]:
    """ "/donghu/donghu-xinhua/" → ["donghu", "donghu-xinhua"]: the unit and its ancestors."""
    return sorted({code for path in paths for code in path.strip("/").split("/") if code})
