"""Group names of the live feed."""

from __future__ import annotations

CENTRE = "centre"  # operators, dispatchers, supervisors


def unit_group(unit_code: str) -> str:
    return f"unit.{unit_code}"


def ticket_group(ticket_id: int) -> str:
    return f"ticket.{ticket_id}"
